// The Go peers of kwire's decode cases: franz-go's kmsg decodes each frame
// that kwire-bench --export-frames wrote (size prefix and header included)
// and walks what kwire's walk visits; every record batch is CRC-32C checked
// and every record and header parsed. Prints one JSON line per frame:
// counts (-mode=count) or ns per frame and bytes per second (-mode=bench).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type frame struct {
	Name     string `json:"name"`
	File     string `json:"file"`
	APIKey   int16  `json:"api_key"`
	Version  int16  `json:"version"`
	Response bool   `json:"response"`
	bytes    []byte
}

// What a decode saw: the same keys kwire counts (frames.jsonl).
type counts map[string]int64

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errShort = errors.New("short frame")

// skipTags skips a tagged-field section; the bytes after it.
func skipTags(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errShort
	}
	b = b[k:]
	for i := uint64(0); i < n; i++ {
		_, k = binary.Uvarint(b)
		if k <= 0 {
			return nil, errShort
		}
		b = b[k:]
		size, k2 := binary.Uvarint(b)
		if k2 <= 0 || uint64(len(b)-k2) < size {
			return nil, errShort
		}
		b = b[k2+int(size):]
	}
	return b, nil
}

// body strips the size prefix and the request or response header (kmsg
// decodes bodies only) and returns the body with an empty message of its kind.
func body(f *frame) ([]byte, kmsg.Request, kmsg.Response, error) {
	b := f.bytes
	if len(b) < 4 || int(binary.BigEndian.Uint32(b)) != len(b)-4 {
		return nil, nil, nil, errShort
	}
	b = b[4:]
	req := kmsg.RequestForKey(f.APIKey)
	if req == nil {
		return nil, nil, nil, fmt.Errorf("no kmsg request for key %d", f.APIKey)
	}
	req.SetVersion(f.Version)
	if !f.Response {
		if len(b) < 10 {
			return nil, nil, nil, errShort
		}
		if int16(binary.BigEndian.Uint16(b)) != f.APIKey ||
			int16(binary.BigEndian.Uint16(b[2:])) != f.Version {
			return nil, nil, nil, errors.New("header key or version")
		}
		clientID := int(int16(binary.BigEndian.Uint16(b[8:])))
		b = b[10:]
		if clientID > 0 {
			if len(b) < clientID {
				return nil, nil, nil, errShort
			}
			b = b[clientID:]
		}
		if req.IsFlexible() {
			var err error
			if b, err = skipTags(b); err != nil {
				return nil, nil, nil, err
			}
		}
		return b, req, nil, nil
	}
	resp := req.ResponseKind()
	resp.SetVersion(f.Version)
	if len(b) < 4 {
		return nil, nil, nil, errShort
	}
	b = b[4:]
	// ApiVersions responses keep header v0 even when flexible.
	if resp.IsFlexible() && f.APIKey != 18 {
		var err error
		if b, err = skipTags(b); err != nil {
			return nil, nil, nil, err
		}
	}
	return b, nil, resp, nil
}

// records parses every batch of a records field with kmsg.RecordBatch,
// checks its CRC-32C, and parses every record with kmsg.Record.
func records(b []byte, c counts, sum *uint64) error {
	var batch kmsg.RecordBatch
	var rec kmsg.Record
	for len(b) > 0 {
		if len(b) < 61 {
			return errShort
		}
		end := 12 + int(int32(binary.BigEndian.Uint32(b[8:])))
		if end > len(b) || end < 61 {
			return errShort
		}
		if err := batch.ReadFrom(b[:end]); err != nil {
			return err
		}
		if batch.Magic != 2 {
			return errors.New("magic")
		}
		if crc32.Checksum(b[21:end], castagnoli) != uint32(batch.CRC) {
			return errors.New("batch CRC-32C")
		}
		c["batches"]++
		r := batch.Records
		for i := int32(0); i < batch.NumRecords; i++ {
			length, k := binary.Varint(r)
			if k <= 0 || int64(len(r)-k) < length {
				return errShort
			}
			if err := rec.ReadFrom(r[:k+int(length)]); err != nil {
				return err
			}
			r = r[k+int(length):]
			c["records"]++
			c["headers"] += int64(len(rec.Headers))
			*sum += uint64(len(rec.Key) + len(rec.Value))
			for _, h := range rec.Headers {
				*sum += uint64(len(h.Key) + len(h.Value))
			}
		}
		if len(r) != 0 {
			return errors.New("bytes after the last record")
		}
		b = b[end:]
	}
	return nil
}

// decode decodes the frame and walks it to kwire's depth.
func decode(f *frame, sum *uint64) (counts, error) {
	b, req, resp, err := body(f)
	if err != nil {
		return nil, err
	}
	c := counts{}
	if req != nil {
		if err := req.ReadFrom(b); err != nil {
			return nil, err
		}
	} else if err := resp.ReadFrom(b); err != nil {
		return nil, err
	}
	switch m := any(req).(type) {
	case *kmsg.ProduceRequest:
		for _, t := range m.Topics {
			c["topics"]++
			*sum += uint64(len(t.Topic))
			for _, p := range t.Partitions {
				c["partitions"]++
				*sum += uint64(p.Partition)
				if err := records(p.Records, c, sum); err != nil {
					return nil, err
				}
			}
		}
		return c, nil
	case *kmsg.FetchRequest:
		for _, t := range m.Topics {
			c["topics"]++
			*sum += uint64(len(t.Topic)) + uint64(t.TopicID[0])
			for _, p := range t.Partitions {
				c["partitions"]++
				*sum += uint64(p.FetchOffset) + uint64(p.PartitionMaxBytes)
			}
		}
		for _, t := range m.ForgottenTopics {
			*sum += uint64(len(t.Topic))
		}
		return c, nil
	case *kmsg.OffsetCommitRequest:
		*sum += uint64(len(m.Group)+len(m.MemberID)) + uint64(m.Generation)
		for _, t := range m.Topics {
			c["topics"]++
			*sum += uint64(len(t.Topic))
			for _, p := range t.Partitions {
				c["partitions"]++
				*sum += uint64(p.Partition) + uint64(p.Offset) + uint64(p.LeaderEpoch)
				if p.Metadata != nil {
					*sum += uint64(len(*p.Metadata))
				}
			}
		}
		return c, nil
	}
	switch m := any(resp).(type) {
	case *kmsg.FetchResponse:
		for _, t := range m.Topics {
			c["topics"]++
			*sum += uint64(len(t.Topic))
			for _, p := range t.Partitions {
				c["partitions"]++
				*sum += uint64(p.HighWatermark)
				for _, a := range p.AbortedTransactions {
					*sum += uint64(a.FirstOffset)
				}
				if err := records(p.RecordBatches, c, sum); err != nil {
					return nil, err
				}
			}
		}
		c["batches"] += 0
		c["records"] += 0
		c["headers"] += 0
		return c, nil
	case *kmsg.MetadataResponse:
		for _, br := range m.Brokers {
			*sum += uint64(len(br.Host)) + uint64(br.Port)
		}
		for _, t := range m.Topics {
			c["topics"]++
			if t.Topic != nil {
				*sum += uint64(len(*t.Topic))
			}
			for _, p := range t.Partitions {
				c["partitions"]++
				*sum += uint64(p.Leader)
				for _, lists := range [][]int32{p.Replicas, p.ISR, p.OfflineReplicas} {
					for _, n := range lists {
						*sum += uint64(n)
					}
				}
			}
		}
		return c, nil
	case *kmsg.ApiVersionsResponse:
		for _, k := range m.ApiKeys {
			c["api_keys"]++
			*sum += uint64(k.ApiKey + k.MaxVersion)
		}
		for _, s := range m.SupportedFeatures {
			*sum += uint64(len(s.Name))
		}
		for _, s := range m.FinalizedFeatures {
			*sum += uint64(len(s.Name))
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s: no walk for this message", f.Name)
}

func load(dir string) ([]frame, error) {
	fh, err := os.Open(filepath.Join(dir, "frames.jsonl"))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []frame
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var f frame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			return nil, err
		}
		if f.bytes, err = os.ReadFile(filepath.Join(dir, f.File)); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, sc.Err()
}

func main() {
	dir := flag.String("dir", "", "directory written by kwire-bench --export-frames")
	mode := flag.String("mode", "bench", "count: decode each frame once and print its counts; bench: time it")
	seconds := flag.Float64("seconds", 0.5, "timed seconds per frame (after as long again of warm-up)")
	flag.Parse()
	frames, err := load(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kwire-peers-go:", err)
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	failed := false
	for i := range frames {
		f := &frames[i]
		var sum uint64
		c, err := decode(f, &sum)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kwire-peers-go: kmsg: %s: %v\n", f.Name, err)
			failed = true
			continue
		}
		line := map[string]any{"peer": "kmsg", "frame": f.Name, "counts": c}
		if *mode == "bench" {
			budget := time.Duration(*seconds * float64(time.Second))
			run := func(d time.Duration) (int64, time.Duration) {
				start := time.Now()
				var n int64
				for n == 0 || time.Since(start) < d {
					for k := 0; k < 16; k++ {
						if _, err := decode(f, &sum); err != nil {
							panic(err)
						}
					}
					n += 16
				}
				return n, time.Since(start)
			}
			run(budget) // warm-up
			n, took := run(budget)
			ns := float64(took.Nanoseconds()) / float64(n)
			line["iters"] = n
			line["ns_per_frame"] = ns
			line["bytes_per_s"] = float64(len(f.bytes)) / ns * 1e9
		}
		line["checksum"] = sum
		if err := out.Encode(line); err != nil {
			os.Exit(1)
		}
	}
	if failed {
		os.Exit(1)
	}
}
