/*
 * kwire-dump internals: the pieces the tool is made of, shared between its
 * files.
 *
 *   dump.c     options, inputs (raw frames, hex, captures), main()
 *   decode.c   one frame: header, body, matching responses to requests,
 *              filters, error reports
 *   output.c   buffered output, the indenting printer, hex windows, summary
 *   pcap.c     pcap and pcapng reader, link layers, IPv4/IPv6, TCP headers
 *   tcp.c      TCP connections: reassembly per direction, frames, gaps
 *   annotate.c what the JSON printer leaves as numbers and hex: error code
 *              names, record offsets and times, consumer protocol bytes;
 *              error code counts for --summary
 */
#ifndef KWIRE_DUMP_H
#define KWIRE_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kwire/kwire.h"
#include "kwire/messages.h"

/* ---- options ------------------------------------------------------------- */

enum dump_format { FORMAT_AUTO, FORMAT_RAW, FORMAT_HEX, FORMAT_PCAP };

#define DUMP_PORTS_MAX 64
#define DUMP_API_MAX 64
#define DUMP_TOPICS_MAX 64

struct dump_options {
    size_t max_frame;
    int16_t response_key; /* -1 unless --response */
    int16_t response_version;
    bool roundtrip;       /* re-encode each body and compare */
    bool pretty;          /* indented JSON */
    bool summary;         /* counts only */
    bool quiet_notes;     /* --quiet: no stderr notes about captures */
    enum dump_format format;
    uint16_t ports[DUMP_PORTS_MAX];
    size_t port_count;
    int16_t apis[DUMP_API_MAX]; /* --api */
    size_t api_count;
    const char *topics[DUMP_TOPICS_MAX]; /* --topic */
    size_t topic_count;
    bool has_correlation_id;
    int32_t correlation_id;
};

/* ---- output (output.c) --------------------------------------------------- */

/* Everything printed on standard output goes through here. */
void out_init(const struct dump_options *opt);
void out_write(const char *data, size_t len);
void out_str(const char *s);
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void out_printf(const char *fmt, ...);
/* A JSON string (null for a null slice). */
void out_json_string(kw_slice s);
/* The kw_json_write_fn of the library's printer. */
void out_json_sink(void *ctx, const char *data, size_t len);
/* Ends a frame's line; flushes when standard output is a terminal or the input live. */
void out_end_line(void);
/* The input is a pipe or a device (tcpdump -w -): flush after every frame. */
void out_live(bool live);
void out_flush(void);

/*
 * Up to 16 bytes either side of offset, the byte at offset in brackets,
 * as lines "  %08zx  xx  xx [xx] ...".
 */
void print_hex_window(FILE *to, const uint8_t *buf, size_t len, size_t offset);

/* ---- counts for --summary and the exit status ---------------------------- */

#define SUMMARY_VERSIONS 32 /* versions 0..30 one by one, the rest together */

struct api_counts {
    uint64_t frames[2]; /* [0] requests, [1] responses */
    uint64_t bytes[2];
    uint64_t errors[2];
};

/* Error code counts per API: codes -1..ERROR_SLOTS-3 each, the rest in the last slot. */
#define ERROR_SLOTS 257

struct dump_stats {
    /* [api key, or KW_API_KEY_COUNT for unknown keys][version] */
    struct api_counts api[KW_API_KEY_COUNT + 1][SUMMARY_VERSIONS];
    uint64_t frames, bytes, errors; /* frames that passed the filters */
    uint64_t undecoded;   /* frames in none of the rows: no header, no request */
    uint64_t connections; /* TCP connections with Kafka traffic */
    uint64_t packets, tcp_packets, tcp_bytes;
    uint64_t gaps, gap_bytes, skipped_bytes, retransmitted_bytes;
    uint64_t unanswered;  /* requests without a response when the input ended */
    uint64_t failures;    /* anything that makes the exit status 1 */
    uint64_t decoded;     /* frames whose body decoded, filtered out or not */
    /* non-zero error_code fields of responses, [api key or KW_API_KEY_COUNT][code + 1] */
    uint64_t error_codes[KW_API_KEY_COUNT + 1][ERROR_SLOTS];
};

extern struct dump_stats g_stats;

void print_summary(FILE *to);

/* ---- requests in flight, for matching responses --------------------------- */

struct pending {
    int32_t correlation_id;
    int16_t api_key, api_version;
    bool shown;       /* the request passed the filters: show its response */
    int64_t ts_sec;   /* when the request was complete (captures) */
    uint32_t ts_nsec;
    bool consumer_protocol; /* JoinGroup/SyncGroup of protocol type "consumer" */
};

/* Oldest first; Kafka answers in order on a connection, so a match is cheap. */
#define PENDING_MAX 1024
struct pending_list {
    struct pending *items; /* ring of cap entries */
    size_t cap, head, count;
};

void pending_add(struct pending_list *pl, const struct pending *p);
/* Finds and removes the request with this correlation id; false if none. */
bool pending_take(struct pending_list *pl, int32_t correlation_id, struct pending *out);
/* Looks without removing; NULL if none. */
const struct pending *pending_find(const struct pending_list *pl, int32_t correlation_id);
void pending_free(struct pending_list *pl);

/* ---- one frame (decode.c) ------------------------------------------------- */

enum frame_dir { DIR_UNKNOWN, DIR_REQUEST, DIR_RESPONSE };

/* Where a frame came from: a raw stream, or one direction of a TCP connection. */
struct frame_origin {
    const char *source;     /* file name or "<stdin>" */
    uint64_t frame_no;      /* 0-based, per raw stream or per capture */
    uint64_t offset;        /* of the length prefix, in its stream */
    enum frame_dir dir;     /* known in captures */
    /* captures only (conn != 0) */
    uint32_t conn;
    const char *client, *server; /* "127.0.0.1:49306" */
    uint64_t packet;        /* 1-based number of the packet that completed it */
    int64_t ts_sec;
    uint32_t ts_nsec;
    bool ts_nano;           /* print nanoseconds */
};

/*
 * Decodes one frame (the size bytes after the length prefix), prints it
 * when it passes the filters, and reports errors. Requests go into
 * pending; a response is looked up there. Returns 0 when the frame
 * decoded (or was filtered out after decoding), -1 when it did not.
 */
int dump_frame(const struct dump_options *opt, struct pending_list *pending,
               const struct frame_origin *o, const uint8_t *body, size_t size);

/*
 * Whether body could start a frame of the given direction at a guessed
 * boundary (after lost bytes): a request whose header and body decode,
 * or a response to a request in pending that decodes as such.
 */
bool frame_plausible(const struct dump_options *opt, const struct pending_list *pending,
                     enum frame_dir dir, const uint8_t *body, size_t size);

/* Cheap first test on the first bytes (at least 8 of them) of a candidate. */
bool frame_head_plausible(const struct dump_options *opt, const struct pending_list *pending,
                          enum frame_dir dir, const uint8_t *head, size_t have);

/* Prints "SOURCE: conn N client->server" or "SOURCE: frame N" for notes. */
void print_origin(FILE *to, const struct frame_origin *o);

/* ---- annotations (annotate.c) --------------------------------------------- */

/*
 * Whether the metadata or assignment bytes of this JoinGroup or SyncGroup
 * message (validated, from start) are the consumer protocol's: from its
 * protocol_type, else from the request (req) or from the JoinGroup that
 * named the group. Requests teach it the group's protocol type.
 */
bool group_uses_consumer_protocol(const kw_message_info *m, int16_t version,
                                  const kw_reader *start, const struct pending *req);

/* Counts the non-zero error_code fields of a validated response for --summary. */
void count_error_codes(const kw_message_info *m, int16_t version, const kw_reader *start);

/*
 * Prints a validated message as JSON, as kw_json_write_message does, with
 * error code names, record offsets and ISO 8601 times added and, when
 * consumer_protocol, the consumer protocol bytes decoded.
 */
void print_annotated_message(const kw_message_info *m, int16_t version, kw_reader *r,
                             bool consumer_protocol);

/* Milliseconds since the epoch as "2026-12-03T09:46:00.123Z"; false outside years 0..9999. */
bool format_iso8601_ms(int64_t ms, char out[32]);

/* ---- captures (pcap.c, tcp.c) --------------------------------------------- */

/* Where capture bytes come from: a FILE or a memory buffer. */
struct byte_source {
    FILE *file;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    const uint8_t *pre; /* bytes already read (format detection) served first */
    size_t pre_len, pre_pos;
};

/*
 * Reads a whole pcap or pcapng capture from src, reassembles the TCP
 * connections on the Kafka ports and dumps every frame. Bounded and safe
 * on any input. Returns 0, or -1 when the capture itself is unreadable
 * (a note went to stderr); frame errors are counted in g_stats.
 */
int dump_capture(const struct dump_options *opt, const char *name, struct byte_source *src);

/*
 * The same over a buffer in memory: the entry point for a fuzz target.
 * Output goes to standard output, notes to standard error.
 */
int dump_capture_buffer(const struct dump_options *opt, const char *name, const uint8_t *data,
                        size_t len);

/* A TCP segment as the capture reader hands it to the reassembler. */
struct tcp_segment {
    uint8_t family;              /* 4 or 6 */
    uint8_t src[16], dst[16];    /* addresses, IPv4 in the first 4 bytes */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;               /* TCP flags byte */
    const uint8_t *payload;
    size_t len;                  /* payload bytes present */
    size_t missing;              /* payload bytes cut off by the snapshot length */
    uint64_t packet;
    int64_t ts_sec;
    uint32_t ts_nsec;
    bool ts_nano;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct tcp_table;
struct tcp_table *tcp_table_new(const struct dump_options *opt, const char *name);
void tcp_segment_in(struct tcp_table *t, const struct tcp_segment *s);
/* The capture ended: flush what is buffered, report what is incomplete. */
void tcp_table_finish(struct tcp_table *t);
void tcp_table_free(struct tcp_table *t);

#endif /* KWIRE_DUMP_H */
