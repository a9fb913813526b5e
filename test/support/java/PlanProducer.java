import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A producer on the official Java client, driven by a plan file so that one JVM start covers
 * every codec and transaction of a test. Tab-separated lines, in order:
 *
 * <pre>
 * producer  COMPRESSION  TRANSACTIONAL_ID|-   closes the previous producer, opens a new one
 * begin | commit | abort                       transaction control of the current producer
 * send      TOPIC  PARTITION  BASE64_KEY  BASE64_VALUE
 * </pre>
 *
 * Sends are awaited at commit, abort and when the producer closes, so a failed send fails the
 * run (exit 1) instead of being lost. Prints one line per step for the test's log.
 */
public final class PlanProducer {
  private static KafkaProducer<byte[], byte[]> producer;
  private static final List<Future<RecordMetadata>> pending = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: PlanProducer BOOTSTRAP_SERVERS PLAN_FILE");
      System.exit(2);
    }
    String bootstrap = args[0];
    for (String line : Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8)) {
      if (line.isEmpty()) continue;
      String[] f = line.split("\t", -1);
      switch (f[0]) {
        case "producer":
          close();
          producer = open(bootstrap, f[1], f[2]);
          if (!f[2].equals("-")) producer.initTransactions();
          System.out.println("producer compression.type=" + f[1] + " transactional.id=" + f[2]);
          break;
        case "begin":
          producer.beginTransaction();
          break;
        case "commit":
          producer.flush();
          awaitPending();
          producer.commitTransaction();
          System.out.println("committed");
          break;
        case "abort":
          // Flushed first so the aborted records really are in the log, not just dropped.
          producer.flush();
          awaitPending();
          producer.abortTransaction();
          System.out.println("aborted");
          break;
        case "send":
          Base64.Decoder b64 = Base64.getDecoder();
          pending.add(
              producer.send(
                  new ProducerRecord<>(
                      f[1], Integer.valueOf(f[2]), b64.decode(f[3]), b64.decode(f[4]))));
          break;
        default:
          throw new IllegalArgumentException("unknown plan line: " + line);
      }
    }
    close();
    System.out.println("done");
  }

  private static KafkaProducer<byte[], byte[]> open(
      String bootstrap, String compression, String transactionalId) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    // A short linger puts a test's records into one compressed batch of several records.
    props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    if (!transactionalId.equals("-")) {
      props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    }
    return new KafkaProducer<>(props);
  }

  private static void awaitPending() throws Exception {
    for (Future<RecordMetadata> send : pending) send.get();
    pending.clear();
  }

  private static void close() throws Exception {
    if (producer == null) return;
    producer.flush();
    awaitPending();
    producer.close();
    producer = null;
  }
}
