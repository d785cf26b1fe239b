"""The compatibility scenario with confluent-kafka (librdkafka bundled in the wheel): create a topic, produce keyed
records idempotently with acks=all, read them back with assign (default) or as a group member (mode "group"). Prints "OK n" and exits 0 on success."""
import json
import os
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING, version, libversion
from confluent_kafka.admin import AdminClient, NewTopic


def main(bootstrap: str, topic: str, count: int, mode: str) -> int:
    print(f"confluent-kafka {version()[0]}, librdkafka {libversion()[0]}", flush=True)
    # a secured broker: librdkafka settings (security.protocol, sasl.*, ssl.*) as JSON in CAPSTAN_CLIENT_CONFIG
    security = json.loads(os.environ.get("CAPSTAN_CLIENT_CONFIG", "{}"))
    admin = AdminClient({"bootstrap.servers": bootstrap, **security})
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)

    errors = []
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", **security})
    for i in range(count):
        producer.produce(topic, key=f"k{i}", value=f"v{i}", partition=i % 2,
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
        producer.poll(0)
    if producer.flush(60) != 0 or errors:
        print(f"produce failed: {errors[:3]}", flush=True)
        return 1

    if mode == "group":
        # a balanced consumer: joins the group, reads what the coordinator assigns, commits synchronously
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{topic}-group", "enable.auto.commit": False,
                             "auto.offset.reset": "earliest", **security})
        consumer.subscribe([topic])
    else:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-assign-mode", "enable.auto.commit": False, **security})
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING), TopicPartition(topic, 1, OFFSET_BEGINNING)])
    got = {}
    deadline = time.time() + 60
    while len(got) < count and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            print(f"consume error: {msg.error()}", flush=True)
            continue
        got[msg.key().decode()] = msg.value().decode()
    if mode == "group":
        consumer.commit(asynchronous=False)
    consumer.close()
    for i in range(count):
        if got.get(f"k{i}") != f"v{i}":
            print(f"MISSING k{i}: {got.get(f'k{i}')}", flush=True)
            return 1
    print(f"OK {len(got)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "assign"))
