/**
 * Fetch sizes. Smaller than kafkajs' 10 MB / 1 MB defaults, so that a backlog does not inflate
 * the heap (measured in batch mode: peak RSS 297 → 245 MB). kafkajs starts the next fetch only
 * when every batch of the last one is done, so a fetch must hold several partitions' batches
 * for KAFKA_PARTITIONS_CONCURRENCY workers to share: 1 MB in batches of at most 128 KB (about
 * 300 typical events) ran batch mode 7% faster than 512 KB in batches of 256 KB, where one of
 * three workers often had nothing to do, on one 2-core host, and the same within the noise on
 * another (bench/HISTORY.md, "Fetch sizes").
 */
export const FETCH_MAX_BYTES = 1024 * 1024;
export const FETCH_MAX_BYTES_PER_PARTITION = 128 * 1024;
