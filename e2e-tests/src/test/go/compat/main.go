// The compatibility scenario with franz-go: create a topic, produce keyed records idempotently with acks=all
// (franz-go's defaults), read them back with direct partition consumption or, with a fourth argument "group",
// as a consumer-group member that commits what it read. Prints "OK n" and exits 0 on success.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// security reads how to reach a secured broker from the environment: CAPSTAN_CA_FILE (PEM) turns on TLS,
// CAPSTAN_SASL_USER and CAPSTAN_SASL_PASSWORD turn on SCRAM-SHA-512.
func security() []kgo.Opt {
	var opts []kgo.Opt
	if ca := os.Getenv("CAPSTAN_CA_FILE"); ca != "" {
		pem, err := os.ReadFile(ca)
		must(err)
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			must(fmt.Errorf("no certificate in %s", ca))
		}
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	if user := os.Getenv("CAPSTAN_SASL_USER"); user != "" {
		auth := scram.Auth{User: user, Pass: os.Getenv("CAPSTAN_SASL_PASSWORD")}
		opts = append(opts, kgo.SASL(auth.AsSha512Mechanism()))
	}
	return opts
}

func main() {
	bootstrap, topic := os.Args[1], os.Args[2]
	count, _ := strconv.Atoi(os.Args[3])
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	common := append([]kgo.Opt{kgo.SeedBrokers(bootstrap)}, security()...)
	admin, err := kgo.NewClient(common...)
	must(err)
	resp, err := kadm.NewClient(admin).CreateTopics(ctx, 2, 1, nil, topic)
	must(err)
	must(resp.Error())
	admin.Close()

	producer, err := kgo.NewClient(append(common, kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	must(err)
	for i := 0; i < count; i++ {
		r := &kgo.Record{Topic: topic, Partition: int32(i % 2), Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i))}
		producer.Produce(ctx, r, func(_ *kgo.Record, err error) { must(err) })
	}
	must(producer.Flush(ctx))
	producer.Close()

	group := len(os.Args) > 4 && os.Args[4] == "group"
	opts := append([]kgo.Opt{}, common...)
	if group {
		// a balanced consumer: joins the group, reads what the coordinator assigns, commits at the end
		opts = append(opts, kgo.ConsumerGroup(topic+"-group"), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	} else {
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
			topic: {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()},
		}))
	}
	consumer, err := kgo.NewClient(opts...)
	must(err)
	defer consumer.Close()
	got := map[string]string{}
	for len(got) < count {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fetches.EachError(func(t string, p int32, err error) { fmt.Println("fetch error:", t, p, err) })
		fetches.EachRecord(func(r *kgo.Record) { got[string(r.Key)] = string(r.Value) })
	}
	if group {
		must(consumer.CommitUncommittedOffsets(ctx))
	}
	for i := 0; i < count; i++ {
		if got[fmt.Sprintf("k%d", i)] != fmt.Sprintf("v%d", i) {
			fmt.Printf("MISSING k%d\n", i)
			os.Exit(1)
		}
	}
	fmt.Printf("OK %d\n", len(got))
}

func must(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}
