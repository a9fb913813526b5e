import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressFrame as lz4CompressFrame, decompressFrame as lz4DecompressFrame } from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';

/** The names of Kafka's `compression.type` that this service reads (and may write). */
export const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionName = (typeof COMPRESSION_NAMES)[number];

/** Each codec name as kafkajs' `compression` option of a producer send. */
export const COMPRESSION_TYPES: Readonly<Record<CompressionName, CompressionTypes>> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export interface CompressionCodec {
  compress(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

/**
 * The Java producer (snappy-java's SnappyOutputStream) frames snappy the "xerial" way: a 16-byte
 * header (magic, version 1, compatible version 1), then blocks of 32 KiB input, each a 4-byte
 * big-endian length and one raw snappy block. Other clients (librdkafka, older kafkajs codecs)
 * write one raw snappy block, so reading takes both.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_BLOCK_SIZE = 32 * 1024;

async function snappyBlock(block: Buffer): Promise<Buffer> {
  const decoded = await snappyUncompress(block, { asBuffer: true });
  return Buffer.isBuffer(decoded) ? decoded : Buffer.from(decoded);
}

const snappy: CompressionCodec = {
  async compress(data) {
    const parts = [XERIAL_HEADER];
    for (let at = 0; at < data.length; at += XERIAL_BLOCK_SIZE) {
      const block = await snappyCompress(data.subarray(at, at + XERIAL_BLOCK_SIZE));
      const length = Buffer.alloc(4);
      length.writeUInt32BE(block.length);
      parts.push(length, block);
    }
    return Buffer.concat(parts);
  },
  async decompress(data) {
    const framed =
      data.length >= XERIAL_HEADER.length &&
      data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
    if (!framed) return snappyBlock(data);
    const blocks: Buffer[] = [];
    for (let at = XERIAL_HEADER.length; at < data.length;) {
      if (at + 4 > data.length) throw new Error('snappy: xerial block length cut short');
      const length = data.readUInt32BE(at);
      at += 4;
      if (at + length > data.length) throw new Error('snappy: xerial block cut short');
      blocks.push(await snappyBlock(data.subarray(at, at + length)));
      at += length;
    }
    return Buffer.concat(blocks);
  },
};

/**
 * Kafka's lz4 is the LZ4 frame format (magic 0x184D2204) with independent blocks, which is what
 * lz4_flex writes by default and what the Java client's KafkaLZ4BlockInputStream requires.
 */
const lz4: CompressionCodec = {
  compress: (data) => lz4CompressFrame(data),
  decompress: (data) => lz4DecompressFrame(data),
};

/** Standard zstd frames; the Java producer's streaming frames carry no content size. */
const zstd: CompressionCodec = {
  compress: (data) => zstdCompress(data),
  decompress: (data) => zstdDecompress(data),
};

/** The codecs kafkajs lacks (it has gzip built in), by name. */
export const COMPRESSION_CODECS: Readonly<Record<'snappy' | 'lz4' | 'zstd', CompressionCodec>> = {
  snappy,
  lz4,
  zstd,
};

/**
 * Registers snappy, lz4 and zstd with kafkajs, whose stock codecs for them throw
 * KafkaJSNotImplemented: a fetched batch in any of them would crash the consumer for good.
 * kafkajs' codec table is process-wide; registering again replaces the same entries.
 */
export function registerCompressionCodecs(): void {
  const slots = [
    [CompressionTypes.Snappy, snappy],
    [CompressionTypes.LZ4, lz4],
    [CompressionTypes.ZSTD, zstd],
  ] as const;
  for (const [type, codec] of slots) {
    CompressionCodecs[type] = () => ({
      compress: (encoder: { buffer: Buffer }) => codec.compress(encoder.buffer),
      decompress: (data: Buffer) => codec.decompress(data),
    });
  }
}
