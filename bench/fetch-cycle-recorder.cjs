/* global process */
/**
 * A preload for the service under the bench that records kafkajs' fetch cycles, for
 * `bench/fetch-cycle-summary.ts`:
 *
 *   FETCH_CYCLES_DIR=/tmp NODE_OPTIONS="--require $PWD/bench/fetch-cycle-recorder.cjs" \
 *     npm run bench -- --modes batch
 *
 * Every process that creates a kafkajs consumer writes `fetch-cycles-<pid>.json` into
 * FETCH_CYCLES_DIR when it exits: the start of each fetch, and each partition batch's end, topic,
 * partition, size and duration (kafkajs' instrumentation events). Plain JavaScript, so that the
 * service runs as it always does; a diagnostic only, which the service never loads by itself.
 */
'use strict';
const { writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');

const record = { fetchStarts: [], batches: [] };
let used = false;
let patched = false;

const load = Module._load;
Module._load = function (request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  if (!patched && request === 'kafkajs' && loaded && loaded.Kafka) {
    patched = true;
    const proto = loaded.Kafka.prototype;
    const consumer = proto.consumer;
    proto.consumer = function (config) {
      const created = consumer.call(this, config);
      used = true;
      created.on(created.events.FETCH_START, () => record.fetchStarts.push(Date.now()));
      created.on(created.events.END_BATCH_PROCESS, ({ payload }) => {
        const { topic, partition, batchSize, duration } = payload;
        record.batches.push([Date.now(), topic, partition, batchSize, duration]);
      });
      return created;
    };
  }
  return loaded;
};

process.on('exit', () => {
  if (!used) return;
  const file = join(process.env.FETCH_CYCLES_DIR || '.', `fetch-cycles-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(record));
});
