"""A consumer-group member in its own process (confluent-kafka, librdkafka in the wheel), so a test can SIGKILL it like
a crashed machine. Usage: group_member.py BOOTSTRAP GROUP TOPIC PROTOCOL (classic or consumer). Prints STARTED once
subscribed, "R <value>" for each record once processed, commits synchronously after each batch, and "E <error>" for
any error the client reports."""
import sys

from confluent_kafka import Consumer, KafkaException


def main(bootstrap: str, group: str, topic: str, protocol: str) -> int:
    config = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
              "auto.offset.reset": "earliest", "group.protocol": protocol,
              "error_cb": lambda err: print(f"E {err}", flush=True)}
    if protocol == "classic":
        config.update({"session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                       "partition.assignment.strategy": "cooperative-sticky"})
    consumer = Consumer(config)
    consumer.subscribe([topic])
    print("STARTED", flush=True)
    while True:
        batch = consumer.consume(num_messages=500, timeout=0.1)
        lines = []
        for msg in batch:
            if msg.error():
                print(f"E {msg.error()}", flush=True)
                continue
            lines.append(f"R {msg.value().decode()}")
        if lines:
            print("\n".join(lines), flush=True)
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as e:
                # what an application does on a commit refused during a rebalance: keep going (at least once)
                print(f"C {e}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]))
