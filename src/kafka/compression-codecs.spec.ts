import { randomBytes } from 'node:crypto';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressSync as snappyRawCompress } from 'snappy';
import {
  COMPRESSION_CODECS,
  COMPRESSION_NAMES,
  COMPRESSION_TYPES,
  registerCompressionCodecs,
} from './compression-codecs';

const TEXT =
  '{"eventId":"3f1c","type":"product.updated","version":1,"data":{"id":1,"name":"Kafka says hello"}} repeated repeated repeated repeated';

/**
 * TEXT as the Java client compresses a record batch: the output of kafka-clients 4.4.0's own
 * `Compression.of(name).build().wrapForOutput(…, magic 2)` streams, the producer's code path
 * (xerial-framed snappy-java, KafkaLZ4BlockOutputStream, zstd-jni's streaming frame without a
 * content size).
 */
const FROM_JAVA = {
  snappy:
    'glNOQVBQWQAAAAABAAAAAQAAAG6FAfBJeyJldmVudElkIjoiM2YxYyIsInR5cGUiOiJwcm9kdWN0LnVwZGF0ZWQiLCJ2ZXJzaW9uIjoxLCJkYXRhIjp7ImlkIjoxLCJuYW0BNFxLYWZrYSBzYXlzIGhlbGxvIn19IHJlcGUBQWoJAA==',
  lz4: 'BCJNGGBAgnIAAADxM3siZXZlbnRJZCI6IjNmMWMiLCJ0eXBlIjoicHJvZHVjdC51cGRhdGVkIiwidmVyc2lvbiI6MSwiZGF0YSI6eyJpZA8AMG5hbTQA8AlLYWZrYSBzYXlzIGhlbGxvIn19IHJlcGVBAA8JAANQZWF0ZWQAAAAA',
  zstd: 'KLUv/QBY7AIAUoYUGIDHOd1rL/eWFuFjtfiPOmTNhd0apJohuPj019lpmioE+eC0xe2YYFjQ6wtOeJS5Oo1FxDWpo7ErRcWncSVDFgkqtnr9WrKoBWEAesVApisvEwIAYwkviDDNAQAA',
} as const;

const NAMES = ['snappy', 'lz4', 'zstd'] as const;
/** Empty, small, and large enough for several snappy (32 KiB) and lz4 (64 KiB) blocks. */
const INPUTS = {
  empty: Buffer.alloc(0),
  text: Buffer.from(TEXT),
  '300 KiB mixed': Buffer.concat([Buffer.from(TEXT.repeat(1000)), randomBytes(150 * 1024)]),
};

describe('compression codecs', () => {
  describe.each(NAMES)('%s', (name) => {
    const codec = COMPRESSION_CODECS[name];

    it.each(Object.entries(INPUTS))('round-trips %s input', async (_, input) => {
      const compressed = await codec.compress(input);
      expect((await codec.decompress(compressed)).equals(input)).toBe(true);
    });

    it('decodes what the Java client compressed', async () => {
      const decoded = await codec.decompress(Buffer.from(FROM_JAVA[name], 'base64'));
      expect(decoded.toString('utf8')).toBe(TEXT);
    });

    it('rejects bytes that are not this codec', async () => {
      await expect(codec.decompress(Buffer.from('not compressed at all'))).rejects.toThrow();
    });
  });

  describe('snappy framing', () => {
    it('writes the xerial header and 32 KiB blocks, as snappy-java does', async () => {
      const compressed = await COMPRESSION_CODECS.snappy.compress(INPUTS['300 KiB mixed']);
      expect(compressed.subarray(0, 16).toString('hex')).toBe('82534e41505059000000000100000001');
      let blocks = 0;
      for (let at = 16; at < compressed.length; blocks++) at += 4 + compressed.readUInt32BE(at);
      expect(blocks).toBe(Math.ceil(INPUTS['300 KiB mixed'].length / (32 * 1024)));
    });

    it('also reads one raw snappy block, as librdkafka writes it', async () => {
      const decoded = await COMPRESSION_CODECS.snappy.decompress(snappyRawCompress(TEXT));
      expect(decoded.toString('utf8')).toBe(TEXT);
    });

    it('rejects a xerial stream whose last block is cut short', async () => {
      const compressed = await COMPRESSION_CODECS.snappy.compress(Buffer.from(TEXT));
      await expect(
        COMPRESSION_CODECS.snappy.decompress(compressed.subarray(0, compressed.length - 3)),
      ).rejects.toThrow('snappy: xerial block cut short');
    });
  });

  it('registers the three codecs with kafkajs, which then decodes the Java bytes', async () => {
    registerCompressionCodecs();
    registerCompressionCodecs();
    const types = {
      snappy: CompressionTypes.Snappy,
      lz4: CompressionTypes.LZ4,
      zstd: CompressionTypes.ZSTD,
    } as const;
    for (const name of NAMES) {
      const codec = (
        CompressionCodecs[types[name]] as () => { decompress(data: Buffer): Promise<Buffer> }
      )();
      const decoded = await codec.decompress(Buffer.from(FROM_JAVA[name], 'base64'));
      expect(decoded.toString('utf8')).toBe(TEXT);
    }
  });

  it('maps every codec name to its kafkajs CompressionTypes', () => {
    expect(COMPRESSION_NAMES.map((name) => [name, COMPRESSION_TYPES[name]])).toEqual([
      ['none', CompressionTypes.None],
      ['gzip', CompressionTypes.GZIP],
      ['snappy', CompressionTypes.Snappy],
      ['lz4', CompressionTypes.LZ4],
      ['zstd', CompressionTypes.ZSTD],
    ]);
  });
});
