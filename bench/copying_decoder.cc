// A conventional copying decoder of ProduceRequest (v3-v11 framing, record
// batches v2), the way most hand-written decoders work: a bounds-checked
// reader that throws, heap-allocated structs, and std::string /
// std::vector copies of the client id, topic names, keys, values and
// headers. It is the baseline kwire's in-place decode is set against; it
// checks what kwire checks (lengths, record sizes, counts, CRC-32C with the
// same kw_crc32c when asked), so the difference is the copying.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.h"

namespace kwb {
namespace copying {

struct RecordHeader {
    std::string key;
    std::optional<std::string> value;
};

struct Record {
    int8_t attributes = 0;
    int64_t timestamp_delta = 0;
    int32_t offset_delta = 0;
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<RecordHeader> headers;
};

struct RecordBatch {
    int64_t base_offset = 0;
    int32_t partition_leader_epoch = 0;
    int8_t magic = 0;
    uint32_t crc = 0;
    int16_t attributes = 0;
    int32_t last_offset_delta = 0;
    int64_t base_timestamp = 0;
    int64_t max_timestamp = 0;
    int64_t producer_id = 0;
    int16_t producer_epoch = 0;
    int32_t base_sequence = 0;
    std::vector<Record> records;
};

struct PartitionData {
    int32_t index = 0;
    bool null_records = false;
    std::vector<RecordBatch> batches;
};

struct TopicData {
    std::string name;
    std::vector<PartitionData> partitions;
};

struct ProduceRequest {
    int16_t api_key = 0;
    int16_t api_version = 0;
    int32_t correlation_id = 0;
    std::optional<std::string> client_id;
    std::optional<std::string> transactional_id;
    int16_t acks = 0;
    int32_t timeout_ms = 0;
    std::vector<TopicData> topics;
};

void ProduceRequestDeleter::operator()(ProduceRequest *p) const { delete p; }

namespace {

struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Reader {
public:
    Reader(const uint8_t *p, size_t n) : p_(p), end_(p + n) {}

    size_t remaining() const { return static_cast<size_t>(end_ - p_); }
    const uint8_t *pos() const { return p_; }

    void need(size_t n) const
    {
        if (remaining() < n)
            throw DecodeError("truncated");
    }

    void skip(size_t n)
    {
        need(n);
        p_ += n;
    }

    Reader sub(size_t n)
    {
        need(n);
        Reader r(p_, n);
        p_ += n;
        return r;
    }

    int8_t i8()
    {
        need(1);
        return static_cast<int8_t>(*p_++);
    }

    int16_t i16() { return static_cast<int16_t>(be(2)); }
    int32_t i32() { return static_cast<int32_t>(be(4)); }
    uint32_t u32() { return static_cast<uint32_t>(be(4)); }
    int64_t i64() { return static_cast<int64_t>(be(8)); }

    uint64_t uvarlong(int max_bytes)
    {
        uint64_t v = 0;
        for (int i = 0; i < max_bytes; i++) {
            need(1);
            const uint8_t b = *p_++;
            v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
            if (!(b & 0x80))
                return v;
        }
        throw DecodeError("varint too long");
    }

    uint32_t uvarint() { return static_cast<uint32_t>(uvarlong(5)); }

    int32_t varint()
    {
        const uint32_t u = uvarint();
        return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
    }

    int64_t varlong()
    {
        const uint64_t u = uvarlong(10);
        return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    }

    std::string copy(size_t n)
    {
        need(n);
        std::string s(reinterpret_cast<const char *>(p_), n);
        p_ += n;
        return s;
    }

    // Classic (int16 length) or compact (unsigned varint length + 1) string.
    std::optional<std::string> nullable_string(bool compact)
    {
        int64_t n = compact ? static_cast<int64_t>(uvarint()) - 1 : i16();
        if (n == -1)
            return std::nullopt;
        if (n < 0)
            throw DecodeError("negative length");
        return copy(static_cast<size_t>(n));
    }

    std::string string(bool compact)
    {
        auto s = nullable_string(compact);
        if (!s)
            throw DecodeError("unexpected null");
        return std::move(*s);
    }

    // int32 or compact array count; -1 for null.
    int32_t count(bool compact)
    {
        int64_t n = compact ? static_cast<int64_t>(uvarint()) - 1 : i32();
        if (n < -1 || n > static_cast<int64_t>(remaining()))
            throw DecodeError("bad array count");
        return static_cast<int32_t>(n);
    }

    void skip_tagged_fields()
    {
        uint32_t n = uvarint();
        while (n--) {
            (void)uvarint();
            skip(uvarint());
        }
    }

private:
    uint64_t be(size_t n)
    {
        need(n);
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
            v = v << 8 | p_[i];
        p_ += n;
        return v;
    }

    const uint8_t *p_;
    const uint8_t *end_;
};

std::optional<std::string> var_bytes(Reader &r)
{
    const int32_t n = r.varint();
    if (n == -1)
        return std::nullopt;
    if (n < 0)
        throw DecodeError("negative length");
    return r.copy(static_cast<size_t>(n));
}

Record decode_record(Reader &batch)
{
    const int32_t length = batch.varint();
    if (length < 0)
        throw DecodeError("negative record length");
    Reader r = batch.sub(static_cast<size_t>(length));
    Record rec;
    rec.attributes = r.i8();
    rec.timestamp_delta = r.varlong();
    rec.offset_delta = r.varint();
    rec.key = var_bytes(r);
    rec.value = var_bytes(r);
    const int32_t headers = r.varint();
    if (headers < 0 || static_cast<size_t>(headers) > r.remaining() / 2)
        throw DecodeError("bad header count");
    rec.headers.reserve(static_cast<size_t>(headers));
    for (int32_t i = 0; i < headers; i++) {
        RecordHeader h;
        auto key = var_bytes(r);
        if (!key)
            throw DecodeError("null header key");
        h.key = std::move(*key);
        h.value = var_bytes(r);
        rec.headers.push_back(std::move(h));
    }
    if (r.remaining() != 0)
        throw DecodeError("record length does not match its fields");
    return rec;
}

std::vector<RecordBatch> decode_batches(Reader records, bool verify_crc)
{
    std::vector<RecordBatch> out;
    while (records.remaining() > 0) {
        RecordBatch b;
        b.base_offset = records.i64();
        const int32_t batch_length = records.i32();
        if (batch_length < static_cast<int32_t>(KW_BATCH_V2_HEADER - KW_ENTRY_OVERHEAD))
            throw DecodeError("bad batch length");
        Reader r = records.sub(static_cast<size_t>(batch_length));
        b.partition_leader_epoch = r.i32();
        b.magic = r.i8();
        if (b.magic != 2)
            throw DecodeError("not a v2 batch");
        b.crc = r.u32();
        if (verify_crc && kw_crc32c(0, r.pos(), r.remaining()) != b.crc)
            throw DecodeError("bad CRC");
        b.attributes = r.i16();
        if (b.attributes & KW_ATTR_COMPRESSION_MASK)
            throw DecodeError("compressed");
        b.last_offset_delta = r.i32();
        b.base_timestamp = r.i64();
        b.max_timestamp = r.i64();
        b.producer_id = r.i64();
        b.producer_epoch = r.i16();
        b.base_sequence = r.i32();
        const int32_t count = r.i32();
        if (count < 0 || static_cast<size_t>(count) > r.remaining() / 7)
            throw DecodeError("bad record count");
        b.records.reserve(static_cast<size_t>(count));
        for (int32_t i = 0; i < count; i++)
            b.records.push_back(decode_record(r));
        if (r.remaining() != 0)
            throw DecodeError("bytes after the last record");
        out.push_back(std::move(b));
    }
    return out;
}

ProducePtr decode(Reader &frame, bool verify_crc)
{
    const int32_t size = frame.i32();
    if (size < 0 || static_cast<size_t>(size) != frame.remaining())
        throw DecodeError("bad frame size");
    ProducePtr req(new ProduceRequest);
    req->api_key = frame.i16();
    req->api_version = frame.i16();
    if (req->api_key != 0 || req->api_version < 3 || req->api_version > 11)
        throw DecodeError("not a ProduceRequest v3-v11");
    const bool flexible = req->api_version >= 9;
    req->correlation_id = frame.i32();
    req->client_id = frame.nullable_string(false); // header strings stay classic
    if (flexible)
        frame.skip_tagged_fields();
    req->transactional_id = frame.nullable_string(flexible);
    req->acks = frame.i16();
    req->timeout_ms = frame.i32();
    const int32_t topics = frame.count(flexible);
    if (topics < 0)
        throw DecodeError("null topics");
    req->topics.reserve(static_cast<size_t>(topics));
    for (int32_t t = 0; t < topics; t++) {
        TopicData topic;
        topic.name = frame.string(flexible);
        const int32_t parts = frame.count(flexible);
        if (parts < 0)
            throw DecodeError("null partitions");
        topic.partitions.reserve(static_cast<size_t>(parts));
        for (int32_t p = 0; p < parts; p++) {
            PartitionData part;
            part.index = frame.i32();
            const int64_t n = flexible ? static_cast<int64_t>(frame.uvarint()) - 1 : frame.i32();
            if (n == -1) {
                part.null_records = true;
            } else if (n < 0) {
                throw DecodeError("negative records length");
            } else {
                part.batches = decode_batches(frame.sub(static_cast<size_t>(n)), verify_crc);
            }
            if (flexible)
                frame.skip_tagged_fields();
            topic.partitions.push_back(std::move(part));
        }
        if (flexible)
            frame.skip_tagged_fields();
        req->topics.push_back(std::move(topic));
    }
    if (flexible)
        frame.skip_tagged_fields();
    if (frame.remaining() != 0)
        throw DecodeError("trailing bytes");
    return req;
}

} // namespace

ProducePtr decode_produce(const uint8_t *frame, size_t n, bool verify_crc)
{
    Reader r(frame, n);
    try {
        return decode(r, verify_crc);
    } catch (const DecodeError &) {
        return nullptr;
    }
}

int64_t walk(const ProduceRequest &req, uint64_t *sum)
{
    int64_t seen = 0;
    for (const TopicData &topic : req.topics) {
        *sum += topic.name.size();
        for (const PartitionData &part : topic.partitions) {
            *sum += static_cast<uint64_t>(part.index);
            for (const RecordBatch &batch : part.batches) {
                for (const Record &rec : batch.records) {
                    seen++;
                    *sum += (rec.key ? rec.key->size() : 0) + (rec.value ? rec.value->size() : 0);
                    for (const RecordHeader &h : rec.headers)
                        *sum += h.key.size() + (h.value ? h.value->size() : 0);
                }
            }
        }
    }
    return seen;
}

} // namespace copying
} // namespace kwb
