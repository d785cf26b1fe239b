// Transactions with franz-go: "produce" writes TXNS transactions of PER records each to a new two-partition topic,
// committing the even ones and aborting the odd ones; "consume" reads a topic written that way (by any client) with
// the read_committed isolation level and checks it holds exactly the committed records, each once.
// Prints "OK n" and exits 0 on success.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	mode, bootstrap, topic := os.Args[1], os.Args[2], os.Args[3]
	txns, _ := strconv.Atoi(os.Args[4])
	per, _ := strconv.Atoi(os.Args[5])
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if mode == "produce" {
		produce(ctx, bootstrap, topic, txns, per)
	} else {
		consume(ctx, bootstrap, topic, txns, per)
	}
}

func produce(ctx context.Context, bootstrap, topic string, txns, per int) {
	admin, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	must(err)
	resp, err := kadm.NewClient(admin).CreateTopics(ctx, 2, 1, nil, topic)
	must(err)
	must(resp.Error())
	admin.Close()

	opts := []kgo.Opt{kgo.SeedBrokers(bootstrap), kgo.TransactionalID(topic + "-franz"),
		kgo.TransactionTimeout(60 * time.Second), kgo.RecordPartitioner(kgo.ManualPartitioner())}
	if os.Getenv("CAPSTAN_GO_DEBUG") != "" {
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, nil)))
	}
	producer, err := kgo.NewClient(opts...)
	must(err)
	defer producer.Close()
	for t := 0; t < txns; t++ {
		must(producer.BeginTransaction())
		for r := 0; r < per; r++ {
			rec := &kgo.Record{Topic: topic, Partition: int32(r % 2), Key: []byte(fmt.Sprintf("t%d-r%d", t, r)), Value: []byte("franz-go")}
			must(producer.ProduceSync(ctx, rec).FirstErr())
		}
		commit := kgo.TryCommit
		if t%2 == 1 {
			commit = kgo.TryAbort
		}
		must(producer.EndTransaction(ctx, commit))
	}
	fmt.Printf("OK produced %d transactions with franz-go\n", txns)
}

func consume(ctx context.Context, bootstrap, topic string, txns, per int) {
	expected := map[string]bool{}
	for t := 0; t < txns; t += 2 {
		for r := 0; r < per; r++ {
			expected[fmt.Sprintf("t%d-r%d", t, r)] = true
		}
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()}}))
	must(err)
	defer consumer.Close()
	var seen []string
	var quietUntil time.Time
	for ctx.Err() == nil {
		pollCtx, pollCancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fetches := consumer.PollFetches(pollCtx)
		pollCancel()
		fetches.EachRecord(func(r *kgo.Record) { seen = append(seen, string(r.Key)) })
		if len(seen) >= len(expected) {
			if quietUntil.IsZero() {
				quietUntil = time.Now().Add(2 * time.Second) // anything after the expected count is a leak
			}
			if time.Now().After(quietUntil) {
				break
			}
		}
	}
	distinct := map[string]bool{}
	for _, k := range seen {
		distinct[k] = true
	}
	if len(seen) != len(expected) || len(distinct) != len(expected) {
		sort.Strings(seen)
		fmt.Printf("MISMATCH read %d (%d distinct), expected %d\n", len(seen), len(distinct), len(expected))
		os.Exit(1)
	}
	for k := range distinct {
		if !expected[k] {
			fmt.Printf("MISMATCH read %s, which was aborted\n", k)
			os.Exit(1)
		}
	}
	fmt.Printf("OK %d\n", len(seen))
}

func must(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}
