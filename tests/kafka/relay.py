#!/usr/bin/env python3
"""A capturing TCP relay for Kafka traffic (Python 3 stdlib only).

    relay.py --listen PORT --target HOST:PORT --out DIR [--pid-file F]

Listens on 127.0.0.1:PORT, forwards every connection to the target, and
records both directions of each:

* DIR/NNNNN_cCC_DIR_kKK-Name_vV_corrC.bin: one Kafka frame per file,
  length prefix included, named and indexed as tests/vectors/README.md says
  (a response takes the key and version of the request with its correlation
  id on its connection);
* DIR/index.tsv: one row per frame, the columns of tests/vectors/*/index.tsv;
* DIR/session.pcap: the traffic as classic pcap (Ethernet, synthetic IPv4/TCP
  with handshake, consistent sequence numbers and FIN), client port = the real
  peer's, server port = PORT.

Stops on SIGTERM or SIGINT, flushing what it has.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import threading
import time

# api key -> (name, first flexible version or None), from Apache Kafka 4.4's
# message schemas (flexibleVersions is the same for a request and its response).
APIS = {
    0: ("Produce", 9), 1: ("Fetch", 12), 2: ("ListOffsets", 6), 3: ("Metadata", 9),
    4: ("LeaderAndIsr", 4), 5: ("StopReplica", 2), 6: ("UpdateMetadata", 6),
    7: ("ControlledShutdown", 3), 8: ("OffsetCommit", 8), 9: ("OffsetFetch", 6),
    10: ("FindCoordinator", 3), 11: ("JoinGroup", 6), 12: ("Heartbeat", 4),
    13: ("LeaveGroup", 4), 14: ("SyncGroup", 4), 15: ("DescribeGroups", 5),
    16: ("ListGroups", 3), 17: ("SaslHandshake", None), 18: ("ApiVersions", 3),
    19: ("CreateTopics", 5), 20: ("DeleteTopics", 4), 21: ("DeleteRecords", 2),
    22: ("InitProducerId", 2), 23: ("OffsetForLeaderEpoch", 4),
    24: ("AddPartitionsToTxn", 3), 25: ("AddOffsetsToTxn", 3), 26: ("EndTxn", 3),
    27: ("WriteTxnMarkers", 1), 28: ("TxnOffsetCommit", 3), 29: ("DescribeAcls", 2),
    30: ("CreateAcls", 2), 31: ("DeleteAcls", 2), 32: ("DescribeConfigs", 4),
    33: ("AlterConfigs", 2), 34: ("AlterReplicaLogDirs", 2), 35: ("DescribeLogDirs", 2),
    36: ("SaslAuthenticate", 2), 37: ("CreatePartitions", 2),
    38: ("CreateDelegationToken", 2), 39: ("RenewDelegationToken", 2),
    40: ("ExpireDelegationToken", 2), 41: ("DescribeDelegationToken", 2),
    42: ("DeleteGroups", 2), 43: ("ElectLeaders", 2), 44: ("IncrementalAlterConfigs", 1),
    45: ("AlterPartitionReassignments", 0), 46: ("ListPartitionReassignments", 0),
    47: ("OffsetDelete", None), 48: ("DescribeClientQuotas", 1),
    49: ("AlterClientQuotas", 1), 50: ("DescribeUserScramCredentials", 0),
    51: ("AlterUserScramCredentials", 0), 52: ("Vote", 0), 53: ("BeginQuorumEpoch", 1),
    54: ("EndQuorumEpoch", 1), 55: ("DescribeQuorum", 0), 56: ("AlterPartition", 0),
    57: ("UpdateFeatures", 0), 58: ("Envelope", 0), 59: ("FetchSnapshot", 0),
    60: ("DescribeCluster", 0), 61: ("DescribeProducers", 0),
    62: ("BrokerRegistration", 0), 63: ("BrokerHeartbeat", 0), 64: ("UnregisterBroker", 0),
    65: ("DescribeTransactions", 0), 66: ("ListTransactions", 0),
    67: ("AllocateProducerIds", 0), 68: ("ConsumerGroupHeartbeat", 0),
    69: ("ConsumerGroupDescribe", 0), 70: ("ControllerRegistration", 0),
    71: ("GetTelemetrySubscriptions", 0), 72: ("PushTelemetry", 0),
    73: ("AssignReplicasToDirs", 0), 74: ("ListConfigResources", 0),
    75: ("DescribeTopicPartitions", 0), 76: ("ShareGroupHeartbeat", 0),
    77: ("ShareGroupDescribe", 0), 78: ("ShareFetch", 0), 79: ("ShareAcknowledge", 0),
    80: ("AddRaftVoter", 0), 81: ("RemoveRaftVoter", 0), 82: ("UpdateRaftVoter", 0),
    83: ("InitializeShareGroupState", 0), 84: ("ReadShareGroupState", 0),
    85: ("WriteShareGroupState", 0), 86: ("DeleteShareGroupState", 0),
    87: ("ReadShareGroupStateSummary", 0), 88: ("StreamsGroupHeartbeat", 0),
    89: ("StreamsGroupDescribe", 0), 90: ("DescribeShareGroupOffsets", 0),
    91: ("AlterShareGroupOffsets", 0), 92: ("DeleteShareGroupOffsets", 0),
    93: ("StreamsGroupTopologyDescriptionUpdate", 0), 94: ("UnregisterController", 0),
}

COLUMNS = ("file direction api_key api_name api_version correlation_id size conn flexible "
           "header_len pcap_frame client server time").split()


def flexible(key, version):
    first = APIS.get(key, ("Unknown", None))[1]
    return first is not None and version >= first


def uvarint(buf, off):
    """Unsigned varint at off: (value, next offset); raises IndexError when short."""
    value = shift = 0
    while True:
        b = buf[off]
        off += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, off
        shift += 7


def skip_tags(buf, off):
    count, off = uvarint(buf, off)
    for _ in range(count):
        _, off = uvarint(buf, off)
        size, off = uvarint(buf, off)
        off += size
    return off


def request_header_len(frame, key, version):
    """Prefix + request header: key, version, correlation id, client_id, tags."""
    off = 4 + 8
    n = struct.unpack_from(">h", frame, off)[0]
    off += 2 + max(n, 0)
    # ControlledShutdown v0 has header v0 (no client_id); nothing here sends it.
    if flexible(key, version):
        off = skip_tags(frame, off)
    return off


def response_header_len(frame, key, version):
    off = 4 + 4
    if flexible(key, version) and key != 18:
        off = skip_tags(frame, off)
    return off


class Pcap:
    """Classic pcap, Ethernet link type, one synthetic TCP stream per connection."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.packets = 0

    def packet(self, src, dst, seq, ack, flags, payload=b""):
        tcp = struct.pack(">HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        total = 20 + len(tcp) + len(payload)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0,
                         socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
        csum = 0
        for i in range(0, 20, 2):
            csum += (ip[i] << 8) | ip[i + 1]
        while csum >> 16:
            csum = (csum & 0xFFFF) + (csum >> 16)
        ip = ip[:10] + struct.pack(">H", ~csum & 0xFFFF) + ip[12:]
        eth = b"\0" * 12 + b"\x08\x00"
        data = eth + ip + tcp + payload
        now = time.time()
        sec = int(now)
        usec = int((now - sec) * 1e6)
        self.f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
        self.f.write(data)
        self.packets += 1
        return self.packets, now

    def close(self):
        self.f.close()


class Relay:
    def __init__(self, listen, target, out):
        self.listen = listen
        self.target = target
        self.out = out
        os.makedirs(out, exist_ok=True)
        self.lock = threading.RLock()
        self.pcap = Pcap(os.path.join(out, "session.pcap"))
        self.index = open(os.path.join(out, "index.tsv"), "w")
        self.index.write("\t".join(COLUMNS) + "\n")
        self.index.flush()
        self.frames = 0
        self.conns = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen))
        self.sock.listen(64)

    def serve(self):
        while True:
            try:
                client, peer = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
                conn = Conn(self, self.conns, client, peer)
            threading.Thread(target=conn.run, daemon=True).start()

    def write_frame(self, conn, direction, frame, pcap_frame, when):
        body = frame[4:]
        if direction == "req":
            key, version, corr = struct.unpack_from(">hhi", body, 0)
            conn.inflight[corr] = (key, version)
            try:
                hlen = request_header_len(frame, key, version)
            except (IndexError, struct.error):
                hlen = -1
        else:
            corr = struct.unpack_from(">i", body, 0)[0]
            key, version = conn.inflight.pop(corr, (-1, -1))
            try:
                hlen = response_header_len(frame, key, version)
            except (IndexError, struct.error):
                hlen = -1
        name = APIS.get(key, ("Unknown", None))[0]
        with self.lock:
            self.frames += 1
            file = "%05d_c%02d_%s_k%02d-%s_v%d_corr%d.bin" % (
                self.frames, conn.number, direction, key, name, version, corr)
            with open(os.path.join(self.out, file), "wb") as f:
                f.write(frame)
            row = (file, direction, key, name, version, corr, len(frame), conn.number,
                   int(flexible(key, version)), hlen, pcap_frame, conn.client_addr,
                   conn.server_addr, "%.6f" % when)
            self.index.write("\t".join(str(x) for x in row) + "\n")
            self.index.flush()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            self.pcap.close()
            self.index.close()


class Conn:
    def __init__(self, relay, number, client, peer):
        self.relay = relay
        self.number = number
        self.client = client
        self.peer = (peer[0], peer[1])
        self.server = ("127.0.0.1", relay.listen)
        self.client_addr = "%s:%d" % self.peer
        self.server_addr = "%s:%d" % self.server
        self.inflight = {}
        self.seq = {"req": 1000, "rsp": 5000}
        self.buf = {"req": bytearray(), "rsp": bytearray()}
        self.closed = 0

    def ends(self, direction):
        return (self.peer, self.server) if direction == "req" else (self.server, self.peer)

    def run(self):
        try:
            upstream = socket.create_connection(self.relay.target, timeout=10)
            upstream.settimeout(None)
        except OSError:
            self.client.close()
            return
        with self.relay.lock:
            p = self.relay.pcap
            p.packet(self.peer, self.server, 999, 0, 0x02)
            p.packet(self.server, self.peer, 4999, 1000, 0x12)
            p.packet(self.peer, self.server, 1000, 5000, 0x10)
        t = threading.Thread(target=self.pump, args=(upstream, self.client, "rsp"), daemon=True)
        t.start()
        self.pump(self.client, upstream, "req")
        t.join()

    def pump(self, src, dst, direction):
        other = "rsp" if direction == "req" else "req"
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            with self.relay.lock:
                a, b = self.ends(direction)
                last = None
                for i in range(0, len(data), 65000):
                    part = data[i:i + 65000]
                    last = self.relay.pcap.packet(a, b, self.seq[direction], self.seq[other],
                                                  0x18, part)
                    self.seq[direction] += len(part)
            buf = self.buf[direction]
            buf += data
            while len(buf) >= 4:
                n = struct.unpack_from(">i", buf, 0)[0]
                if n < 0 or len(buf) < 4 + n:
                    break
                frame = bytes(buf[:4 + n])
                del buf[:4 + n]
                self.relay.write_frame(self, direction, frame, last[0], last[1])
            try:
                dst.sendall(data)
            except OSError:
                break
        with self.relay.lock:
            a, b = self.ends(direction)
            self.relay.pcap.packet(a, b, self.seq[direction], self.seq[other], 0x11)
            self.seq[direction] += 1
        for s in (dst,):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--target", required=True, help="HOST:PORT of the real listener")
    ap.add_argument("--out", required=True)
    ap.add_argument("--pid-file")
    args = ap.parse_args()
    host, port = args.target.rsplit(":", 1)
    relay = Relay(args.listen, (host, int(port)), args.out)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())

    def stop(*_):
        relay.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("relay: 127.0.0.1:%d -> %s:%s" % (args.listen, host, port), flush=True)
    relay.serve()


if __name__ == "__main__":
    main()
