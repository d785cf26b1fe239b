"""Transactions with confluent-kafka (librdkafka): "produce" writes TXNS transactions of PER records each to a new
two-partition topic, committing the even ones and aborting the odd ones; "consume" reads a topic written that way (by
any client) with isolation.level=read_committed and checks it holds exactly the committed records, each once.
Prints "OK n" and exits 0 on success."""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING, libversion
from confluent_kafka.admin import AdminClient, NewTopic


def produce(bootstrap: str, topic: str, txns: int, per: int) -> int:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept: a destroyed client fails its pending futures
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"{topic}-librdkafka", "transaction.timeout.ms": 60000})
    producer.init_transactions(30)
    for t in range(txns):
        producer.begin_transaction()
        for r in range(per):
            producer.produce(topic, key=f"t{t}-r{r}", value="librdkafka", partition=r % 2)
        if t % 2 == 0:
            producer.commit_transaction(30)
        else:
            producer.flush(30)  # the aborted records reach the log first, so a reader must skip them
            producer.abort_transaction(30)
    print(f"OK produced {txns} transactions with librdkafka {libversion()[0]}", flush=True)
    return 0


def consume(bootstrap: str, topic: str, txns: int, per: int) -> int:
    expected = {f"t{t}-r{r}" for t in range(0, txns, 2) for r in range(per)}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING), TopicPartition(topic, 1, OFFSET_BEGINNING)])
    seen = []
    deadline = time.time() + 60
    quiet_until = None
    while time.time() < deadline:
        msg = consumer.poll(0.2)
        if msg is not None and not msg.error():
            seen.append(msg.key().decode())
        if len(seen) >= len(expected):
            quiet_until = quiet_until or time.time() + 2  # anything after the expected count is a leak
            if time.time() > quiet_until:
                break
    consumer.close()
    if sorted(seen) != sorted(expected):
        extra = sorted(set(seen) - expected)[:5]
        missing = sorted(expected - set(seen))[:5]
        print(f"MISMATCH read {len(seen)}, expected {len(expected)}; extra {extra} missing {missing}", flush=True)
        return 1
    print(f"OK {len(seen)}", flush=True)
    return 0


if __name__ == "__main__":
    mode, bootstrap, topic, txns, per = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    sys.exit(produce(bootstrap, topic, txns, per) if mode == "produce" else consume(bootstrap, topic, txns, per))
