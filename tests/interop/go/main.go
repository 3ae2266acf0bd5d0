// kwire-broker through franz-go (kgo, kadm), as go.mod pins it:
//
//		kgo-interop --bootstrap HOST:PORT --topic T [--count N] [--partitions P] [--timeout S]
//
//	 1. kadm: CreateTopics (P partitions), ListTopics, Metadata (brokers,
//	    controller), DescribeTopicConfigs; on a second topic CreatePartitions
//	    (1 -> 2), ListTopics, DeleteTopics.
//	 2. Produce N messages (those of drivers/common.py: key, value, headers)
//	    with kgo's default idempotent producer (acks=all), one client per codec
//	    (none, gzip, snappy, lz4, zstd), each a fifth; every record must be
//	    acknowledged, and its (partition, offset) is remembered.
//	 3. A group of two members, once with the classic protocol (kgo's default
//	    cooperative-sticky balancer) and once with KIP-848's consumer protocol
//	    (kgo.ServerSideBalancer: ConsumerGroupHeartbeat, the broker assigns),
//	    rebalances blocked while a poll is processed: A reads alone, B joins
//	    after A read a third of each partition, both read until two thirds,
//	    B leaves, A reads the rest. A commits asynchronously after each poll, B synchronously; both commit
//	    when partitions are revoked. Every message exactly once, intact, in order
//	    per partition, where it was acknowledged; A's partitions go from all to
//	    fewer and back to all, B reads some.
//	 4. kadm: ListEndOffsets, FetchOffsets (committed == end offset ==
//	    messages), ListGroups (with the group's type), DescribeGroups or, for
//	    the consumer protocol, DescribeConsumerGroups (one member, Stable),
//	    DeleteGroups after A left; after both protocols DeleteTopics.
//
// Every wait is bounded. Last line: "franz-go: N passed, M failed"; exit 1 on failure.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	bootstrap  = flag.String("bootstrap", "", "HOST:PORT")
	topic      = flag.String("topic", "", "topic")
	count      = flag.Int("count", 10000, "messages")
	partitions = flag.Int("partitions", 3, "partitions")
	timeoutS   = flag.Float64("timeout", 45, "seconds per phase")
	run        string
	passed     int
	failed     int
)

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func check(ok bool, format string, args ...any) bool {
	what := fmt.Sprintf(format, args...)
	if ok {
		passed++
		logf("PASS %s", what)
	} else {
		failed++
		logf("FAIL %s", what)
	}
	return ok
}

func phase() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Duration(*timeoutS*float64(time.Second)))
}

// ---- the messages of drivers/common.py ----

func key(i int) []byte { return []byte("k" + strconv.Itoa(i)) }

func value(i int) []byte {
	if i%1000 == 999 {
		return nil
	}
	n := (i * 37) % 301
	if i%2500 == 1234 {
		n = 65536
	}
	v := []byte(fmt.Sprintf("%s:%d:", run, i))
	start := (i * 7) & 0xff
	for j := 0; j < n; j++ {
		v = append(v, byte((start+13*(j%256))&0xff))
	}
	return v
}

func headers(i int) []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: "idx", Value: []byte(strconv.Itoa(i))},
		{Key: "bin", Value: []byte{byte(i & 0xff), 0, 0xff, byte((i >> 8) & 0xff)}},
		{Key: "empty", Value: []byte{}},
	}
}

// ---- what consumers saw ----

type position struct {
	partition int32
	offset    int64
}

type verifier struct {
	mu        sync.Mutex
	seen      []int
	where     []*position
	perPart   map[int32][][2]int64 // offset, index in delivery order
	corrupt   int
	unique    int
	reports   []string
	delivered []*position
}

func (v *verifier) report(format string, args ...any) {
	if len(v.reports) < 20 {
		v.reports = append(v.reports, fmt.Sprintf(format, args...))
	}
}

func (v *verifier) add(r *kgo.Record) {
	v.mu.Lock()
	defer v.mu.Unlock()
	i := -1
	if len(r.Key) > 1 && r.Key[0] == 'k' {
		if n, err := strconv.Atoi(string(r.Key[1:])); err == nil {
			i = n
		}
	}
	if i < 0 || i >= *count || !bytes.Equal(r.Key, key(i)) {
		v.corrupt++
		v.report("p%d@%d: unexpected key %q", r.Partition, r.Offset, r.Key)
		return
	}
	want := value(i)
	if (want == nil) != (r.Value == nil) || !bytes.Equal(r.Value, want) {
		v.corrupt++
		v.report("p%d@%d: message %d: value differs (%d bytes, want %d)", r.Partition, r.Offset, i, len(r.Value), len(want))
		return
	}
	wh := headers(i)
	ok := len(r.Headers) == len(wh)
	for h := 0; ok && h < len(wh); h++ {
		ok = r.Headers[h].Key == wh[h].Key && bytes.Equal(r.Headers[h].Value, wh[h].Value)
	}
	if !ok {
		v.corrupt++
		v.report("message %d: headers %v, want %v", i, r.Headers, wh)
		return
	}
	if v.seen[i] == 0 {
		v.unique++
		v.where[i] = &position{r.Partition, r.Offset}
	} else {
		v.report("message %d again at p%d@%d", i, r.Partition, r.Offset)
	}
	v.seen[i]++
	v.perPart[r.Partition] = append(v.perPart[r.Partition], [2]int64{r.Offset, int64(i)})
}

// reset forgets what the consumers of the previous round saw (not what was acknowledged).
func (v *verifier) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seen = make([]int, *count)
	v.where = make([]*position, *count)
	v.perPart = map[int32][][2]int64{}
	v.corrupt, v.unique, v.reports = 0, 0, nil
}

func (v *verifier) uniqueCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.unique
}

// verify checks exactly once, intact, in order, contiguous from 0, where acknowledged.
func (v *verifier) verify() map[int32]int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	missing, dup, order, misplaced, gaps := 0, 0, 0, 0, 0
	for i := range v.seen {
		if v.seen[i] == 0 {
			missing++
		} else if v.seen[i] > 1 {
			dup++
		}
		if v.where[i] != nil && v.delivered[i] != nil && *v.where[i] != *v.delivered[i] {
			misplaced++
			v.report("message %d: acknowledged at p%d@%d, found at p%d@%d", i, v.delivered[i].partition,
				v.delivered[i].offset, v.where[i].partition, v.where[i].offset)
		}
	}
	counts := map[int32]int64{}
	for p, seq := range v.perPart {
		lastOff, lastI := int64(-1), int64(-1)
		offs := map[int64]bool{}
		minOff, maxOff := int64(-1), int64(-1)
		for _, oi := range seq {
			if oi[0] <= lastOff || oi[1] <= lastI {
				order++
				v.report("p%d: message %d at %d after message %d at %d", p, oi[1], oi[0], lastI, lastOff)
			}
			lastOff, lastI = max(lastOff, oi[0]), max(lastI, oi[1])
			offs[oi[0]] = true
			if minOff < 0 || oi[0] < minOff {
				minOff = oi[0]
			}
			maxOff = max(maxOff, oi[0])
		}
		if len(offs) > 0 && (minOff != 0 || maxOff != int64(len(offs))-1) {
			gaps++
		}
		counts[p] = int64(len(offs))
	}
	logf("consumed: %d messages, %d missing, %d duplicated, %d corrupt, %d out of order, %d misplaced, "+
		"%d partitions with gaps; per partition %v", *count, missing, dup, v.corrupt, order, misplaced, gaps, counts)
	for _, r := range v.reports {
		logf("  %s", r)
	}
	check(missing == 0 && dup == 0 && v.corrupt == 0 && order == 0 && misplaced == 0 && gaps == 0,
		"every message exactly once, intact, in order, where it was acknowledged")
	return counts
}

// ---- steps ----

func adminBefore(adm *kadm.Client) {
	ctx, cancel := phase()
	defer cancel()
	r, err := adm.CreateTopic(ctx, int32(*partitions), 1, nil, *topic)
	check(err == nil && r.Err == nil, "CreateTopics %s (%d partitions): %v %v", *topic, *partitions, err, r.Err)
	td, err := adm.ListTopics(ctx)
	check(err == nil && td.Has(*topic) && len(td[*topic].Partitions) == *partitions,
		"ListTopics: %s with %d partitions (%v)", *topic, len(td[*topic].Partitions), err)
	md, err := adm.Metadata(ctx)
	check(err == nil && len(md.Brokers) == 1 && md.Controller == md.Brokers[0].NodeID && md.Cluster != "",
		"Metadata: brokers %v, controller %d, cluster %q (%v)", md.Brokers, md.Controller, md.Cluster, err)
	cfgs, err := adm.DescribeTopicConfigs(ctx, *topic)
	ok := err == nil && len(cfgs) == 1 && cfgs[0].Err == nil && len(cfgs[0].Configs) > 0
	n := 0
	if len(cfgs) == 1 {
		n = len(cfgs[0].Configs)
	}
	check(ok, "DescribeTopicConfigs: %d entries (%v)", n, err)

	grow := *topic + "-grow"
	_, err = adm.CreateTopic(ctx, 1, 1, nil, grow)
	if err == nil {
		var cr kadm.CreatePartitionsResponses
		cr, err = adm.CreatePartitions(ctx, 1, grow)
		if err == nil {
			err = cr[grow].Err
		}
	}
	td, err2 := adm.ListTopics(ctx, grow)
	check(err == nil && err2 == nil && len(td[grow].Partitions) == 2,
		"CreatePartitions 1 -> 2: ListTopics shows %d (%v %v)", len(td[grow].Partitions), err, err2)
	dr, err := adm.DeleteTopics(ctx, grow)
	if err == nil {
		err = dr[grow].Err
	}
	gone := false
	for end := time.Now().Add(10 * time.Second); err == nil && !gone && time.Now().Before(end); {
		var all kadm.TopicDetails
		all, err = adm.ListTopics(ctx)
		gone = err == nil && !all.Has(grow)
		if !gone {
			time.Sleep(100 * time.Millisecond)
		}
	}
	check(err == nil && gone, "DeleteTopics: %s no longer listed (%v)", grow, err)
}

var codecs = []struct {
	name  string
	codec kgo.CompressionCodec
}{
	{"none", kgo.NoCompression()}, {"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()},
	{"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()},
}

func produce(v *verifier) {
	per := (*count + len(codecs) - 1) / len(codecs)
	for c, codec := range codecs {
		first, last := c*per, min(*count, (c+1)*per)
		cl, err := kgo.NewClient(kgo.SeedBrokers(*bootstrap), kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.ProducerBatchCompression(codec.codec), kgo.ProducerLinger(5*time.Millisecond),
			kgo.RecordDeliveryTimeout(time.Duration(*timeoutS*float64(time.Second))))
		if !check(err == nil, "producer client, %s (%v)", codec.name, err) {
			continue
		}
		ctx, cancel := phase()
		var errs atomic.Int32
		var wg sync.WaitGroup
		for i := first; i < last; i++ {
			rec := &kgo.Record{Topic: *topic, Key: key(i), Value: value(i), Headers: headers(i)}
			wg.Add(1)
			idx := i
			cl.Produce(ctx, rec, func(r *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					if errs.Add(1) <= 5 {
						logf("produce of %d failed: %v", idx, err)
					}
					return
				}
				v.mu.Lock()
				v.delivered[idx] = &position{r.Partition, r.Offset}
				v.mu.Unlock()
			})
		}
		wg.Wait()
		cancel()
		cl.Close()
		ok := 0
		v.mu.Lock()
		for i := first; i < last; i++ {
			if v.delivered[i] != nil {
				ok++
			}
		}
		v.mu.Unlock()
		check(ok == last-first, "idempotent producer, %s: %d of %d acknowledged", codec.name, ok, last-first)
	}
}

// member is one group member: its assignment history and commit failures.
type member struct {
	name           string
	cl             *kgo.Client
	mu             sync.Mutex
	owned          map[int32]bool
	sizes          []int
	records        atomic.Int64
	commitFailures atomic.Int32
}

func (m *member) assignmentChanged(added, removed map[string][]int32) {
	if len(added[*topic]) == 0 && len(removed[*topic]) == 0 {
		return // kgo calls back with nothing in it too
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range added[*topic] {
		m.owned[p] = true
	}
	for _, p := range removed[*topic] {
		delete(m.owned, p)
	}
	m.sizes = append(m.sizes, len(m.owned))
	logf("%s: owns %d partitions", m.name, len(m.owned))
}

func (m *member) ownedCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.owned)
}

func (m *member) history() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.sizes...)
}

// newMember joins group with protocol "classic" or "consumer" (KIP-848).
func newMember(name, group, protocol string) (*member, error) {
	m := &member{name: name, owned: map[int32]bool{}}
	commitRevoked := func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
		if len(revoked[*topic]) > 0 {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				m.commitFailures.Add(1)
				logf("%s: commit on revocation failed: %v", name, err)
			}
		}
		m.assignmentChanged(nil, revoked)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(*bootstrap), kgo.ConsumerGroup(group), kgo.ConsumeTopics(*topic),
		kgo.ClientID(name), kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond)}
	if protocol == "consumer" { // the broker sets the session timeout and heartbeat interval
		opts = append(opts, kgo.ServerSideBalancer())
	} else {
		opts = append(opts, kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(time.Second))
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, added map[string][]int32) {
			m.assignmentChanged(added, nil)
		}),
		kgo.OnPartitionsRevoked(commitRevoked),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			logf("%s: partitions lost: %v", name, lost)
			m.commitFailures.Add(1)
			m.assignmentChanged(nil, lost)
		}))...)
	m.cl = cl
	return m, err
}

// poll reads what one poll returns and commits it (A asynchronously, B synchronously).
func (m *member) poll(v *verifier, async bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	fs := m.cl.PollRecords(ctx, 200)
	cancel()
	defer m.cl.AllowRebalance()
	fs.EachError(func(t string, p int32, err error) {
		if err != context.DeadlineExceeded {
			logf("%s: fetch error %s[%d]: %v", m.name, t, p, err)
		}
	})
	n := 0
	fs.EachRecord(func(r *kgo.Record) { v.add(r); n++ })
	m.records.Add(int64(n))
	if n == 0 {
		return
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 15*time.Second)
	if async {
		m.cl.CommitOffsets(cctx, m.cl.UncommittedOffsets(), func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			defer ccancel()
			if err == nil {
				err = commitRespErr(resp)
			}
			if err != nil {
				m.commitFailures.Add(1)
				logf("%s: async commit failed: %v", m.name, err)
			}
		})
		return
	}
	defer ccancel()
	if err := m.cl.CommitUncommittedOffsets(cctx); err != nil {
		m.commitFailures.Add(1)
		logf("%s: commit failed: %v", m.name, err)
	}
}

func consumeAndAdmin(adm *kadm.Client, v *verifier, protocol string) {
	group := run + "-" + protocol + "-grp"
	tag := " (" + protocol + ")"
	v.reset()
	logf("---- %s protocol, group %s", protocol, group)
	deadline := time.Now().Add(3 * time.Duration(*timeoutS*float64(time.Second)))
	a, err := newMember("member-a", group, protocol)
	if !check(err == nil, "member-a client (%v)", err) {
		return
	}
	// A reads about a third of every partition (each paused at its share), so
	// that whichever partitions B gets still hold messages to read
	share := *count / (3 * *partitions)
	for time.Now().Before(deadline) {
		var full []int32
		v.mu.Lock()
		for p := int32(0); p < int32(*partitions); p++ {
			if len(v.perPart[p]) >= share {
				full = append(full, p)
			}
		}
		v.mu.Unlock()
		if len(full) == *partitions {
			break
		}
		a.cl.PauseFetchPartitions(map[string][]int32{*topic: full})
		a.poll(v, true)
	}
	a.cl.ResumeFetchPartitions(map[string][]int32{*topic: allPartitions()})
	logf("member-a alone: %d messages; member-b joins", v.uniqueCount())
	var bRef atomic.Pointer[member]
	var bLeave atomic.Bool
	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		b, err := newMember("member-b", group, protocol)
		if err != nil {
			logf("member-b client: %v", err)
			return
		}
		bRef.Store(b)
		for !bLeave.Load() && time.Now().Before(deadline) {
			b.poll(v, false)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := b.cl.CommitUncommittedOffsets(ctx); err != nil {
			b.commitFailures.Add(1)
			logf("member-b: final commit failed: %v", err)
		}
		cancel()
		b.cl.Close() // leaves the group
		logf("member-b left after %d records", b.records.Load())
	}()
	// A reads nothing more until B owns partitions (its polls still take part in the rebalance)
	a.cl.PauseFetchTopics(*topic)
	for (bRef.Load() == nil || len(bRef.Load().history()) == 0) && time.Now().Before(deadline) {
		a.poll(v, true)
	}
	a.cl.ResumeFetchTopics(*topic)
	for (v.uniqueCount() < 2**count/3 || bRef.Load() == nil || bRef.Load().records.Load() == 0) &&
		v.uniqueCount() < *count && time.Now().Before(deadline) {
		a.poll(v, true)
	}
	bLeave.Store(true)
	for waiting := true; waiting && time.Now().Before(deadline); {
		select {
		case <-bDone:
			waiting = false
		default:
			a.poll(v, true)
		}
	}
	for v.uniqueCount() < *count && time.Now().Before(deadline) {
		a.poll(v, true)
	}
	// A gets B's partitions back (with the consumer protocol at its next heartbeat, which may be
	// the broker's heartbeat interval away)
	for a.ownedCount() < *partitions && time.Now().Before(deadline) {
		a.poll(v, true)
	}
	for tail := time.Now().Add(1500 * time.Millisecond); time.Now().Before(tail); { // duplicates would show
		a.poll(v, true)
	}
	ctx, cancel := phase()
	defer cancel()
	err = a.cl.CommitUncommittedOffsets(ctx)
	check(err == nil, "member-a: CommitUncommittedOffsets%s (%v)", tag, err)

	as := a.history()
	b := bRef.Load()
	var bs []int
	var brecs int64
	if b != nil {
		bs, brecs = b.history(), b.records.Load()
	}
	logf("member-a assignments %v, %d records; member-b assignments %v, %d records", as, a.records.Load(), bs, brecs)
	shrunk := -1
	for k := 1; k < len(as) && shrunk < 0; k++ {
		if as[k] < *partitions {
			shrunk = k
		}
	}
	back := false
	for k := shrunk + 1; shrunk > 0 && k < len(as); k++ {
		back = back || as[k] == *partitions
	}
	check(len(as) > 0 && as[0] == *partitions && back,
		"rebalance%s: member-a's partitions %v go from all to fewer and back", tag, as)
	check(len(bs) > 0 && bs[0] > 0 && brecs > 0, "rebalance%s: member-b got partitions and read from them", tag)
	check(a.commitFailures.Load() == 0 && (b == nil || b.commitFailures.Load() == 0),
		"every commit (async, sync, on revocation) succeeded, no partition lost%s", tag)
	counts := v.verify()

	ends, err := adm.ListEndOffsets(ctx, *topic)
	committed, err2 := adm.FetchOffsets(ctx, group)
	ok := err == nil && err2 == nil
	for p := int32(0); p < int32(*partitions); p++ {
		e, eok := ends.Lookup(*topic, p)
		c, cok := committed.Lookup(*topic, p)
		pok := eok && cok && e.Err == nil && c.Err == nil && c.At == e.Offset && e.Offset == counts[p]
		logf("offsets: partition %d committed %d, end offset %d, messages %d%s", p, c.At, e.Offset, counts[p],
			map[bool]string{true: "", false: "  MISMATCH"}[pok])
		ok = ok && pok
	}
	check(ok, "FetchOffsets == ListEndOffsets == messages, every partition%s (%v %v)", tag, err, err2)
	lg, err := adm.ListGroups(ctx)
	check(err == nil && sortedHas(lg.Groups(), group) && lg[group].GroupType == protocol,
		"ListGroups lists %s, type %q (%v)", group, lg[group].GroupType, err)
	if protocol == "consumer" {
		dg, err := adm.DescribeConsumerGroups(ctx, group)
		d := dg[group]
		check(err == nil && d.Err == nil && len(d.Members) == 1 && d.State == "Stable",
			"DescribeConsumerGroups: %d member, %s, epoch %d (%v %v)", len(d.Members), d.State, d.Epoch, err, d.Err)
	} else {
		dg, err := adm.DescribeGroups(ctx, group)
		d := dg[group]
		check(err == nil && d.Err == nil && len(d.Members) == 1 && d.State == "Stable",
			"DescribeGroups: %d member, %s (%v %v)", len(d.Members), d.State, err, d.Err)
	}
	a.cl.Close()
	del, err := adm.DeleteGroups(ctx, group)
	if err == nil {
		err = del[group].Err
	}
	lg, err2 = adm.ListGroups(ctx)
	check(err == nil && err2 == nil && !sortedHas(lg.Groups(), group),
		"DeleteGroups: %s no longer listed (%v %v)", group, err, err2)
}

// commitRespErr is the first partition error of an OffsetCommit response.
func commitRespErr(resp *kmsg.OffsetCommitResponse) error {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, err)
			}
		}
	}
	return nil
}

func allPartitions() []int32 {
	ps := make([]int32, *partitions)
	for p := range ps {
		ps[p] = int32(p)
	}
	return ps
}

func sortedHas(list []string, s string) bool {
	sort.Strings(list)
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

func main() {
	flag.Parse()
	if *bootstrap == "" || *topic == "" {
		logf("needs --bootstrap and --topic")
		os.Exit(2)
	}
	run = fmt.Sprintf("franzgo-%d-%d", os.Getpid(), time.Now().Unix())
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/twmb/franz-go" || d.Path == "github.com/twmb/franz-go/pkg/kadm" {
				logf("franz-go: %s %s", d.Path, d.Version)
			}
		}
	}
	v := &verifier{seen: make([]int, *count), where: make([]*position, *count),
		delivered: make([]*position, *count), perPart: map[int32][][2]int64{}}
	acl, err := kgo.NewClient(kgo.SeedBrokers(*bootstrap))
	if check(err == nil, "admin client (%v)", err) {
		adm := kadm.NewClient(acl)
		adminBefore(adm)
		produce(v)
		for _, protocol := range []string{"classic", "consumer"} {
			consumeAndAdmin(adm, v, protocol)
		}
		ctx, cancel := phase()
		dr, err := adm.DeleteTopics(ctx, *topic)
		if err == nil {
			err = dr[*topic].Err
		}
		cancel()
		check(err == nil, "DeleteTopics %s (%v)", *topic, err)
		acl.Close()
	}
	fmt.Printf("franz-go: %d passed, %d failed\n", passed, failed)
	if failed > 0 || passed == 0 {
		os.Exit(1)
	}
}
