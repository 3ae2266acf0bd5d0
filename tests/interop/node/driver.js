#!/usr/bin/env node
// Interop round trip with kafkajs (a pure JavaScript client).
//
//   node driver.js --bootstrap HOST:PORT --topic T [--count N] [--partitions P]
//                  [--group G] [--timeout S] [--no-create]
//
// 1. admin.createTopics with P partitions; fetchTopicMetadata must show P.
// 2. Produce N keyed messages with headers (acks=-1, 1000 per send); every
//    send must succeed. The partition of each message is what kafkajs's
//    default partitioner gives for its key, its offset the send's base offset
//    plus its rank in that partition within the send.
// 3. Consume through a consumer group (subscribe fromBeginning); every message
//    once, intact, in order per partition, where step 2 says it is.
// 4. commitOffsets; the group's committed offsets (admin.fetchOffsets) must
//    equal the high watermarks (admin.fetchTopicOffsets) and the number of
//    messages of every partition.
// Messages are those of tests/interop/drivers/common.py.
// Last line: "kafkajs: N passed, M failed"; exit 1 on failure.
'use strict'
const { Kafka, logLevel, Partitioners } = require('kafkajs')
const pkg = require('kafkajs/package.json')

const CLIENT = 'kafkajs'
const log = (m) => process.stderr.write(m + '\n')

function parseArgs (argv) {
  const a = { count: 10000, partitions: 3, timeout: 45, group: null, create: true }
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i]
    const v = argv[i + 1]
    switch (k) {
      case '--bootstrap': a.bootstrap = v; i++; break
      case '--topic': a.topic = v; i++; break
      case '--count': a.count = parseInt(v, 10); i++; break
      case '--partitions': a.partitions = parseInt(v, 10); i++; break
      case '--group': a.group = v; i++; break
      case '--timeout': a.timeout = parseFloat(v); i++; break
      case '--no-create': a.create = false; break
      default: throw new Error('unknown argument ' + k)
    }
  }
  if (!a.bootstrap || !a.topic || !(a.count > 0)) {
    log('usage: driver.js --bootstrap HOST:PORT --topic T [--count N] [--partitions P] [--group G] [--timeout S] [--no-create]')
    process.exit(2)
  }
  a.run = `${CLIENT}-${process.pid}-${Math.floor(Date.now() / 1000)}`
  if (!a.group) a.group = a.run + '-grp'
  return a
}

// ---- the messages (as drivers/common.py) ----
const key = (i) => Buffer.from('k' + i)
const payloadLen = (i) => (i % 2500 === 1234 ? 65536 : (i * 37) % 301)
function payload (i) {
  const n = payloadLen(i)
  const b = Buffer.alloc(n)
  const start = (i * 7) & 0xff
  for (let j = 0; j < n; j++) b[j] = (start + 13 * j) & 0xff
  return b
}
const value = (run, i) => (i % 1000 === 999 ? null : Buffer.concat([Buffer.from(`${run}:${i}:`), payload(i)]))
const headers = (i) => [['idx', Buffer.from(String(i))], ['bin', Buffer.from([i & 0xff, 0, 0xff, (i >> 8) & 0xff])], ['empty', Buffer.alloc(0)]]

function sameBuf (a, b) {
  if (a === null || b === null) return a === b
  return Buffer.compare(a, b) === 0
}

class Verifier {
  constructor (n, label, run) {
    this.n = n
    this.label = label
    this.run = run
    this.seen = new Uint32Array(n)
    this.where = new Array(n).fill(null)
    this.parts = new Map()
    this.corrupt = 0
    this.unique = 0
    this.reports = []
  }

  report (m) { if (this.reports.length < 20) this.reports.push(m) }

  add (p, off, k, v, h) {
    const ks = k ? k.toString('latin1') : ''
    const i = /^k\d+$/.test(ks) ? Number(ks.slice(1)) : -1
    if (i < 0 || i >= this.n || ks !== 'k' + i) { this.corrupt++; this.report(`p${p}@${off}: unexpected key ${JSON.stringify(ks.slice(0, 40))}`); return }
    if (!sameBuf(v === undefined ? null : v, value(this.run, i))) {
      this.corrupt++
      this.report(`p${p}@${off}: message ${i}: value differs (${v === null ? null : v.length} bytes)`)
      return
    }
    const got = Object.entries(h || {}).map(([hk, hv]) => [hk, Buffer.isBuffer(hv) ? hv : (hv === null || hv === undefined ? null : Buffer.from(String(hv)))])
    const want = headers(i)
    const okH = got.length === want.length && want.every(([wk, wv]) => got.some(([gk, gv]) => gk === wk && gv !== null && sameBuf(gv, wv)))
    if (!okH) {
      this.corrupt++
      this.report(`p${p}@${off}: message ${i}: headers ${JSON.stringify(got.map(([x, y]) => [x, y && y.toString('hex')]))}`)
      return
    }
    if (this.seen[i] === 0) { this.unique++; this.where[i] = [p, off] } else this.report(`message ${i} again at p${p}@${off}`)
    this.seen[i]++
    if (!this.parts.has(p)) this.parts.set(p, [])
    this.parts.get(p).push([off, i])
  }

  done () { return this.unique >= this.n }

  check (delivered) {
    const bad = new Set()
    let missing = 0; let dup = 0; let order = 0; let gaps = 0; let misplaced = 0
    for (let i = 0; i < this.n; i++) {
      if (this.seen[i] !== 1) bad.add(i)
      if (this.seen[i] === 0) missing++
      if (this.seen[i] > 1) dup++
    }
    const perPart = {}
    for (const [p, seq] of [...this.parts.entries()].sort((x, y) => x[0] - y[0])) {
      let lastOff = -1; let lastI = -1
      for (const [off, i] of seq) {
        if (off <= lastOff || i <= lastI) { order++; bad.add(i); this.report(`p${p}: message ${i} at offset ${off} after message ${lastI} at offset ${lastOff}`) }
        lastOff = Math.max(lastOff, off); lastI = Math.max(lastI, i)
      }
      const offs = [...new Set(seq.map((x) => x[0]))].sort((x, y) => x - y)
      if (offs.length && (offs[0] !== 0 || offs[offs.length - 1] !== offs.length - 1)) {
        gaps++
        this.report(`p${p}: offsets ${offs[0]}..${offs[offs.length - 1]} hold ${offs.length} distinct messages (not contiguous from 0)`)
      }
      perPart[p] = seq.length
    }
    if (delivered) {
      for (let i = 0; i < this.n; i++) {
        const w = this.where[i]; const d = delivered[i]
        if (w && d && (w[0] !== d[0] || w[1] !== d[1])) {
          misplaced++; bad.add(i)
          this.report(`message ${i}: produce said p${d[0]}@${d[1]}, found at p${w[0]}@${w[1]}`)
        }
      }
    }
    log(`${this.label}: ${this.n} messages, ${this.n - bad.size} ok, ${missing} missing, ${dup} duplicated, ${this.corrupt} corrupt, ${order} out of order, ${misplaced} misplaced, ${gaps} partitions with offset gaps; per partition ${JSON.stringify(perPart)}`)
    for (const r of this.reports) log('  ' + r)
    return [this.n - bad.size, bad.size + this.corrupt + gaps]
  }

  counts () {
    const out = {}
    for (const w of this.where) if (w) out[w[0]] = (out[w[0]] || 0) + 1
    return out
  }
}

const withTimeout = (p, ms, what) => Promise.race([p, new Promise((resolve, reject) => setTimeout(() => reject(new Error(what + ': timed out')), ms).unref())])

async function main () {
  const a = parseArgs(process.argv)
  const lvl = { debug: logLevel.DEBUG, info: logLevel.INFO, warn: logLevel.WARN, error: logLevel.ERROR, nothing: logLevel.NOTHING }[process.env.KJS_LOG || 'error']
  const kafka = new Kafka({ clientId: 'kwire-interop', brokers: a.bootstrap.split(','), logLevel: lvl, retry: { retries: 5 }, requestTimeout: 15000 })
  log(`${CLIENT} ${pkg.version}, node ${process.version}`)
  const killer = setTimeout(() => {
    log('kafkajs: overall time limit reached')
    console.log(`${CLIENT}: 0 passed, ${a.count} failed`)
    process.exit(1)
  }, (3 * a.timeout + 30) * 1000)
  killer.unref()
  let extra = 0
  const ms = a.timeout * 1000

  // 1. topic
  const admin = kafka.admin()
  await withTimeout(admin.connect(), ms, 'admin connect')
  if (a.create) {
    try {
      const created = await withTimeout(admin.createTopics({ topics: [{ topic: a.topic, numPartitions: a.partitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 10000 }), ms, 'createTopics')
      log(`createTopics ${a.topic}: ${created ? 'created' : 'already there'}`)
      if (!created) extra++
    } catch (e) {
      log(`createTopics ${a.topic} failed: ${e.message}`)
      extra++
    }
  }
  try {
    const md = await withTimeout(admin.fetchTopicMetadata({ topics: [a.topic] }), ms, 'fetchTopicMetadata')
    const n = md.topics[0].partitions.length
    if (n !== a.partitions) { log(`metadata shows ${n} partitions for ${a.topic}, want ${a.partitions}`); extra++ }
  } catch (e) {
    log(`fetchTopicMetadata failed: ${e.message}`)
    extra++
  }

  // 2. produce
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
  await withTimeout(producer.connect(), ms, 'producer connect')
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = Array.from({ length: a.partitions }, (_, p) => ({ partitionId: p, leader: 0 }))
  const delivered = new Array(a.count).fill(null)
  let t0 = Date.now()
  const deadline = t0 + ms
  let sent = 0; let failedSends = 0
  const BATCH = 1000
  for (let s = 0; s < a.count && Date.now() < deadline; s += BATCH) {
    const msgs = []
    const byPart = new Map()
    for (let i = s; i < Math.min(a.count, s + BATCH); i++) {
      const m = { key: key(i), value: value(a.run, i), headers: Object.fromEntries(headers(i)) }
      const p = partitioner({ topic: a.topic, partitionMetadata, message: m })
      if (!byPart.has(p)) byPart.set(p, [])
      byPart.get(p).push(i)
      msgs.push(m)
    }
    try {
      const res = await withTimeout(producer.send({ topic: a.topic, acks: -1, messages: msgs }), ms, 'send')
      for (const r of res) {
        if (r.errorCode !== 0) { log(`send: partition ${r.partition} error ${r.errorCode}`); continue }
        const idx = byPart.get(r.partition) || []
        idx.forEach((i, rank) => { delivered[i] = [r.partition, Number(r.baseOffset) + rank] })
      }
      sent += msgs.length
    } catch (e) {
      failedSends++
      log('send failed: ' + e.message)
    }
  }
  await producer.disconnect()
  const nDelivered = delivered.filter((d) => d !== null).length
  log(`produce: ${sent} sent, ${nDelivered} with a delivery position, ${failedSends} failed sends in ${((Date.now() - t0) / 1000).toFixed(2)} s`)
  extra += a.count - nDelivered

  // 3. consume
  const consumer = kafka.consumer({ groupId: a.group, sessionTimeout: 6000, heartbeatInterval: 1000, rebalanceTimeout: 10000, maxWaitTimeInMs: 250 })
  const v = new Verifier(a.count, `group consume (${a.group})`, a.run)
  const next = {}
  await withTimeout(consumer.connect(), ms, 'consumer connect')
  await consumer.subscribe({ topic: a.topic, fromBeginning: true })
  t0 = Date.now()
  let resolveDone
  const allIn = new Promise((resolve) => { resolveDone = resolve })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      for (const m of batch.messages) {
        v.add(batch.partition, Number(m.offset), m.key, m.value, m.headers)
        next[batch.partition] = Number(m.offset) + 1
      }
      await heartbeat()
      if (v.done()) resolveDone()
    }
  })
  await Promise.race([allIn, new Promise((resolve) => setTimeout(resolve, ms).unref())])
  await new Promise((resolve) => setTimeout(resolve, 1000)) // so that duplicates would show
  log(`consume: ${v.unique} messages in ${((Date.now() - t0) / 1000).toFixed(2)} s`)
  const [passed, failed] = v.check(delivered)

  // 4. commit and compare
  try {
    await withTimeout(consumer.commitOffsets(Object.entries(next).map(([p, o]) => ({ topic: a.topic, partition: Number(p), offset: String(o) }))), ms, 'commitOffsets')
  } catch (e) {
    log('commitOffsets failed: ' + e.message)
    extra++
  }
  await withTimeout(consumer.disconnect(), ms, 'consumer disconnect').catch((e) => { log(e.message); extra++ })
  try {
    const high = await withTimeout(admin.fetchTopicOffsets(a.topic), ms, 'fetchTopicOffsets')
    const got = await withTimeout(admin.fetchOffsets({ groupId: a.group, topics: [a.topic] }), ms, 'fetchOffsets')
    const committed = {}
    for (const t of got) for (const p of t.partitions) committed[p.partition] = Number(p.offset)
    const counts = v.counts()
    for (const h of high.sort((x, y) => x.partition - y.partition)) {
      const c = committed[h.partition]; const e = Number(h.high); const n = counts[h.partition] || 0
      const ok = c === e && e === n
      log(`offsets: partition ${h.partition} committed ${c}, end offset ${e}, messages ${n}${ok ? '' : '  MISMATCH'}`)
      if (!ok) extra++
    }
    if (high.length !== a.partitions) { log(`fetchTopicOffsets gave ${high.length} partitions`); extra++ }
  } catch (e) {
    log('offset check failed: ' + e.message)
    extra++
  }
  await admin.disconnect()
  console.log(`${CLIENT}: ${passed} passed, ${failed + extra} failed`)
  process.exit(failed + extra === 0 ? 0 : 1)
}

main().catch((e) => {
  log(`${CLIENT}: fatal: ${e.stack || e}`)
  console.log(`${CLIENT}: 0 passed, 1 failed`)
  process.exit(1)
})
