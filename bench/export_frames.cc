// The frames of the peer comparison (bench/peers/), written to a directory
// so that other decoders read exactly the bytes kwire's cases time.
#include <cstdio>
#include <string>

#include "bench_util.h"

namespace kwb {
namespace {

enum class Kind { produce, fetch_response, counted };

struct PeerFrame {
    const char *name;
    const char *kwire_case; // the kwire-bench case (a full name) on these bytes
    int16_t api_key;
    int16_t version;
    bool response;
    Kind kind;
    int topics; // for Kind::counted: what the frame is built with
    const char *item_name; // what the walk's items are (counted frames)
    const Message &(*message)();
};

const Message &metadata() { return metadata_response_message(12, 100, 100); }
const Message &fetch_request() { return fetch_request_message(12, 10, 3); }
const Message &fetch_empty() { return fetch_response_empty_message(12, 10, 10); }
const Message &offset_commit() { return offset_commit_request_message(9, 20, 50); }
const Message &api_versions() { return api_versions_response_message(3); }
const Message &produce_100() { return produce_message(9, 16, 100); }
const Message &produce_1000() { return produce_message(9, 16, 1000); }
const Message &fetch_100() { return fetch_response_message(12, 16, 100); }
const Message &fetch_1000() { return fetch_response_message(12, 16, 1000); }

const PeerFrame kFrames[] = {
    {"metadata_response_v12_100x100", "decode/metadata_response_100x100/v:12", 3, 12, true,
     Kind::counted, 100, "partitions", metadata},
    {"fetch_request_v12_10x3", "decode/fetch_request_10x3/v:12", 1, 12, false, Kind::counted, 10,
     "partitions", fetch_request},
    {"fetch_response_v12_10x10_empty", "decode/fetch_response_empty_10x10/v:12", 1, 12, true,
     Kind::fetch_response, 0, nullptr, fetch_empty},
    {"offset_commit_request_v9_20x50", "decode/offset_commit_request_20x50/v:9", 8, 9, false,
     Kind::counted, 20, "partitions", offset_commit},
    {"api_versions_response_v3", "decode/api_versions_response/v:3", 18, 3, true, Kind::counted,
     0, "api_keys", api_versions},
    {"produce_request_v9_16x100", "decode/produce/v9/parts:16/recs:100/crc:1", 0, 9, false,
     Kind::produce, 0, nullptr, produce_100},
    {"produce_request_v9_16x1000", "decode/produce/v9/parts:16/recs:1000/crc:1", 0, 9, false,
     Kind::produce, 0, nullptr, produce_1000},
    {"fetch_response_v12_16x100", "decode/fetch_response/v12/parts:16/recs:100/crc:1", 1, 12,
     true, Kind::fetch_response, 0, nullptr, fetch_100},
    {"fetch_response_v12_16x1000", "decode/fetch_response/v12/parts:16/recs:1000/crc:1", 1, 12,
     true, Kind::fetch_response, 0, nullptr, fetch_1000},
};

// The counts as a JSON object: kwire's own count of the frame.
bool counts_json(const PeerFrame &f, const Message &m, std::string *out)
{
    char buf[256];
    if (f.kind == Kind::counted) {
        if (f.topics > 0)
            std::snprintf(buf, sizeof buf, "{\"topics\": %d, \"%s\": %lld}", f.topics, f.item_name,
                          static_cast<long long>(m.items));
        else
            std::snprintf(buf, sizeof buf, "{\"%s\": %lld}", f.item_name,
                          static_cast<long long>(m.items));
        *out = buf;
        return true;
    }
    kwb_counts c = {0, 0, 0, 0, 0};
    const bool ok = f.kind == Kind::produce
                        ? kwb_count_produce_request(m.frame.data(), m.frame.size(), &c)
                        : kwb_count_fetch_response(m.frame.data(), m.frame.size(), f.version, &c);
    if (!ok || c.records != m.items)
        return false;
    std::snprintf(buf, sizeof buf,
                  "{\"topics\": %lld, \"partitions\": %lld, \"batches\": %lld, \"records\": %lld, "
                  "\"headers\": %lld}",
                  static_cast<long long>(c.topics), static_cast<long long>(c.partitions),
                  static_cast<long long>(c.batches), static_cast<long long>(c.records),
                  static_cast<long long>(c.headers));
    *out = buf;
    return true;
}

} // namespace

int export_frames(const char *dir)
{
    const std::string base(dir);
    FILE *index = std::fopen((base + "/frames.jsonl").c_str(), "w");
    if (!index) {
        std::perror(dir);
        return 1;
    }
    for (const PeerFrame &f : kFrames) {
        const Message &m = f.message();
        const std::string file = std::string(f.name) + ".bin";
        FILE *out = std::fopen((base + "/" + file).c_str(), "wb");
        if (!out || std::fwrite(m.frame.data(), 1, m.frame.size(), out) != m.frame.size() ||
            std::fclose(out) != 0) {
            std::perror(file.c_str());
            std::fclose(index);
            return 1;
        }
        std::string counts;
        if (!counts_json(f, m, &counts)) {
            std::fprintf(stderr, "%s: kwire does not count it whole\n", f.name);
            std::fclose(index);
            return 1;
        }
        std::fprintf(index,
                     "{\"name\": \"%s\", \"file\": \"%s\", \"bytes\": %zu, \"api_key\": %d, "
                     "\"version\": %d, \"response\": %s, \"records\": %s, \"kwire_case\": \"%s\", "
                     "\"counts\": %s}\n",
                     f.name, file.c_str(), m.frame.size(), f.api_key, f.version,
                     f.response ? "true" : "false",
                     f.kind == Kind::counted ? "false" : "true", f.kwire_case, counts.c_str());
    }
    return std::fclose(index) == 0 ? 0 : 1;
}

} // namespace kwb
