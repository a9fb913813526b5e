import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Producers on the official Java client, driven by a plan file so that one JVM start covers
 * every codec and transaction of a test. Tab-separated lines, in order, each naming a producer:
 *
 * <pre>
 * producer  NAME  COMPRESSION  TRANSACTIONAL_ID|-   opens a producer (several may be open at once)
 * begin | commit | abort | wait | close  NAME        transaction control; wait: until its sends are acked
 * send      NAME  TOPIC  PARTITION  BASE64_KEY  BASE64_VALUE
 * </pre>
 *
 * Sends are awaited at wait, commit, abort and close (and every producer is closed at the end),
 * so a failed send fails the run (exit 1) instead of being lost. Prints one line per step.
 */
public final class PlanProducer {
  private static final class Open {
    final KafkaProducer<byte[], byte[]> producer;
    final List<Future<RecordMetadata>> pending = new ArrayList<>();

    Open(KafkaProducer<byte[], byte[]> producer) {
      this.producer = producer;
    }

    void awaitPending() throws Exception {
      producer.flush();
      for (Future<RecordMetadata> send : pending) send.get();
      pending.clear();
    }
  }

  private static final Map<String, Open> producers = new LinkedHashMap<>();

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: PlanProducer BOOTSTRAP_SERVERS PLAN_FILE");
      System.exit(2);
    }
    String bootstrap = args[0];
    for (String line : Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8)) {
      if (line.isEmpty()) continue;
      String[] f = line.split("\t", -1);
      String name = f[1];
      if (f[0].equals("producer")) {
        Open opened = new Open(open(bootstrap, f[2], f[3]));
        producers.put(name, opened);
        if (!f[3].equals("-")) opened.producer.initTransactions();
        System.out.println(name + ": compression.type=" + f[2] + " transactional.id=" + f[3]);
        continue;
      }
      Open current = producers.get(name);
      if (current == null) throw new IllegalArgumentException("no open producer: " + line);
      switch (f[0]) {
        case "begin":
          current.producer.beginTransaction();
          break;
        case "commit":
          current.awaitPending();
          current.producer.commitTransaction();
          System.out.println(name + ": committed");
          break;
        case "abort":
          // Acked first so the aborted records really are in the log, not just dropped.
          current.awaitPending();
          current.producer.abortTransaction();
          System.out.println(name + ": aborted");
          break;
        case "wait":
          current.awaitPending();
          break;
        case "close":
          close(name);
          break;
        case "send":
          Base64.Decoder b64 = Base64.getDecoder();
          current.pending.add(
              current.producer.send(
                  new ProducerRecord<>(
                      f[2], Integer.valueOf(f[3]), b64.decode(f[4]), b64.decode(f[5]))));
          break;
        default:
          throw new IllegalArgumentException("unknown plan line: " + line);
      }
    }
    for (String name : new ArrayList<>(producers.keySet())) close(name);
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

  private static void close(String name) throws Exception {
    Open closing = producers.remove(name);
    if (closing == null) return;
    closing.awaitPending();
    closing.producer.close();
  }
}
