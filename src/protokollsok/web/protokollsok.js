/* protokollsök — the search page of an exported bundle (see src/protokollsok/web.py).
 *
 * Embed with two lines:
 *   <script src="BUNDLE/protokollsok.js" defer></script>
 *   <div id="protokollsok"></div>
 *
 * The engine mirrors the Python side: query.py (parsing), termtable.py (query word forms),
 * search._Builder (the query tree) and whoosh's BM25F (scores). It loads data/root.js and the units'
 * filter values (one file, with the page), then only the term shards (and long posting lists) of the
 * query's terms and the units shown; for a common word whose top hits the bundle lists (toplists.py)
 * only the units of its long lists, not their weights; a prefix (utred*) also loads the vocabulary shards (data/v/)
 * that hold the terms it expands to, and a query with few hits those that "Menade du" looks its
 * unknown words' neighbours up in (search._suggest).
 * All document text is put on the page with textContent, never as HTML.
 */
(function (global) {
  "use strict";

  // ------------------------------------------------------------------------------ analysis
  const TOKEN_RE = /[\p{L}\p{N}]+(?:[-/.:][\p{L}\p{N}]+)*/gu;
  const JOINERS = /[-/.:]/;
  const DIGIT = /[\p{Nd}\u00b2\u00b3\u00b9\u2070-\u2079\u2080-\u2089]/u;
  const FOLD = { "å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "a", "ø": "o" };

  /** Lower-cased word tokens with positions and offsets, as analysis.tokenize. */
  function tokenize(text) {
    const out = [];
    let pos = 0;
    for (const m of text.matchAll(TOKEN_RE)) {
      const tok = m[0];
      if (DIGIT.test(tok) || !JOINERS.test(tok)) {
        out.push({ pos: pos++, start: m.index, end: m.index + tok.length, word: tok.toLowerCase() });
        continue;
      }
      let offset = m.index;
      for (const part of tok.split(JOINERS)) {
        if (part) out.push({ pos: pos++, start: offset, end: offset + part.length, word: part.toLowerCase() });
        offset += part.length + 1;
      }
    }
    return out;
  }

  /** å/ä/ö/é folded, as analysis.fold. */
  function fold(word) {
    let w = "";
    for (const c of word) w += FOLD[c] || c;
    if (/^[\x00-\x7f]*$/.test(w)) return w;
    return w.normalize("NFD").replace(/\p{Mn}/gu, "");
  }

  function hasDigit(w) { return DIGIT.test(w); }

  // ------------------------------------------------------------------------------ query language
  const MAX_QUERY_CHARS = 1000;
  const MAX_CLAUSES = 64;
  const FIELD_ALIASES = { "nämnd": "namnd", namnd: "namnd", parti: "parti", dnr: "dnr",
    diarienummer: "dnr", datum: "datum", "år": "datum", ar: "datum" };
  const DNR_RE = new RegExp(
    "(?<![\\p{L}\\p{N}_/.-])(?:[A-ZÅÄÖ]{1,6} \\p{Nd}{4}/\\p{Nd}{1,6}|\\p{Nd}+(?:\\.\\p{Nd}+)+-\\p{Nd}+/\\p{Nd}{4}" +
    "|[A-Za-zÅÄÖåäö]{2,6}/\\p{Nd}{4}:\\p{Nd}{1,6}|[A-ZÅÄÖ]{2,6}-\\p{Nd}{4}-\\p{Nd}{3,6})(?![\\p{L}\\p{N}_/-])", "gu");
  const PART_RE = /(-)?(?:([\p{L}\p{Nl}\p{No}]+):)?(?:"([^"]*)"?|([^\s"]+))/gu;
  const DATE_RE = /^\d{4}(?:-\d{2}(?:-\d{2})?)?$/;

  class QueryError extends Error {}

  /** Parse a query string as query.parse does: {slots, excluded, namnd, parti, dnr, dateFrom, dateTo}. */
  function parse(text) {
    const q = { slots: [], excluded: [], namnd: [], parti: [], dnr: [], dateFrom: null, dateTo: null };
    text = (text || "").slice(0, MAX_QUERY_CHARS);
    const dnrs = [...text.matchAll(DNR_RE)].map((m) => m[0]);
    text = text.replace(DNR_RE, " ");
    for (const d of dnrs) q.slots.push([{ kind: "dnr", words: [d] }]);
    let pendingOr = false;
    for (const m of text.matchAll(PART_RE)) {
      if (!m[0]) continue;
      const neg = !!m[1];
      let fname = m[2];
      const quoted = m[3] !== undefined;
      let value = quoted ? m[3] : m[4];
      if (value === undefined) continue;
      if (fname && FIELD_ALIASES[fname.toLowerCase()]) {
        addFilter(q, FIELD_ALIASES[fname.toLowerCase()], value.trim());
        continue;
      }
      if (fname) value = fname + ":" + value;
      if (!quoted && value === "OR") { pendingOr = q.slots.length > 0; continue; }
      const c = clause(value, quoted, neg);
      if (!c) continue;
      if (c.negated) q.excluded.push(c);
      else if (pendingOr && q.slots.length) q.slots[q.slots.length - 1].push(c);
      else q.slots.push([c]);
      pendingOr = false;
      if (q.slots.length + q.excluded.length >= MAX_CLAUSES) break;
    }
    return q;
  }

  function clause(value, quoted, negated) {
    const words = tokenize(value).map((t) => t.word);
    if (!words.length) return null;
    if (quoted && words.length > 1) return { kind: "phrase", words, negated };
    if (!quoted && value.endsWith("*") && words.length === 1) return { kind: "prefix", words, negated };
    if (words.length > 1) return { kind: "phrase", words, negated };
    return { kind: "word", words, negated };
  }

  function addFilter(q, name, value) {
    if (!value) return;
    if (name === "namnd") q.namnd.push(value);
    else if (name === "parti") q.parti.push(...value.split(/[,\s]+/).filter(Boolean));
    else if (name === "dnr") q.dnr.push(value);
    else [q.dateFrom, q.dateTo] = dateRange(value);
  }

  function dateRange(value) {
    let [lo, hi] = value.split("..", 2);
    if (hi === undefined) hi = lo;
    return [lo ? dateBound(lo, false) : null, hi ? dateBound(hi, true) : null];
  }

  function dateBound(value, end) {
    value = value.trim();
    if (!DATE_RE.test(value)) {
      throw new QueryError(`kan inte läsa datumet "${value}" — skriv 2023, 2023-05 eller 2023-05-17`);
    }
    if (value.length === 4) return end ? value + "-12-31" : value + "-01-01";
    if (value.length === 7) return end ? value + "-31" : value + "-01";
    return value;
  }

  // ------------------------------------------------------------------------------ engine
  function fnv1a(text) {
    let h = 0x811c9dc5;
    for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    return h >>> 0;
  }

  // whoosh 2.7.5 (pinned), query.compound.Or._matcher: an Or of this many terms or more, or of
  // more than two in a segment of at most WHOOSH_SMALL_SEGMENT documents when nothing needs the
  // current match (a sort by score does not; a sort by date does), scores every match 1.0.
  const WHOOSH_TOO_MANY_CLAUSES = 1024;
  const WHOOSH_SMALL_SEGMENT = 5000;
  // A positions file is read in blocks while fewer than one in this many of its blocks are wanted,
  // else whole: a block's request costs about 200 bytes of headers, a block some 90 of positions.
  const BLOCKS_OF_WHOLE = 3;

  function treeSum(vals, lo = 0, hi = vals.length) {
    if (hi - lo <= 1) return vals[lo];
    const half = lo + ((hi - lo) >> 1);
    const a = treeSum(vals, lo, half);
    const b = treeSum(vals, half, hi);
    if (a === undefined) return b;
    if (b === undefined) return a;
    return a + b;
  }

  /** The `k` best of the unit numbers `nums` by `scores` (a Map), score descending, then number:
   * firstK with that order, without a call per comparison. */
  function topByScore(nums, scores, k) {
    const top = [], vals = [];
    if (k <= 0) return top;
    for (const n of nums) {
      const s = scores.get(n);
      if (top.length === k && (s < vals[k - 1] || (s === vals[k - 1] && n > top[k - 1]))) continue;
      let lo = 0, hi = top.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (s > vals[mid] || (s === vals[mid] && n < top[mid])) hi = mid; else lo = mid + 1;
      }
      top.splice(lo, 0, n);
      vals.splice(lo, 0, s);
      if (top.length > k) { top.pop(); vals.pop(); }
    }
    return top;
  }

  /** The first `k` of `items` in the order of `cmp` (a total order): items.sort(cmp).slice(0, k)
   * without sorting them all. */
  function firstK(items, k, cmp) {
    const top = [];
    if (k <= 0) return top;
    for (const x of items) {
      if (top.length === k && cmp(x, top[k - 1]) >= 0) continue;
      let lo = 0, hi = top.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(x, top[mid]) < 0) hi = mid; else lo = mid + 1; }
      top.splice(lo, 0, x);
      if (top.length > k) top.pop();
    }
    return top;
  }

  /** The search engine over one bundle; `load(name)` resolves to a data file's content. */
  function createEngine(load, stem) {
    let root = null;
    const postingsCache = new Map();

    async function init() {
      if (!root) {
        root = await load("root");
        // needed by every query: fetched with the page, its columns decoded before the first query
        load(root.filters).then((all) => all.chunks.forEach((_, c) => metaChunk(all, c))).catch(() => {});
      }
      return root;
    }

    /** The shard of `key`'s bucket in `folder`: "t" (words), "q" (terms of more than one word,
     * the word pairs: web._write_bucket names both by one hash). */
    function shardOf(key, folder = "t") {
      const b = fnv1a(key) % root.buckets;
      return folder + "/" + b + "-" + root.shards.slice(b * root.shardHash, (b + 1) * root.shardHash);
    }
    function shard(key) { return load(shardOf(key)); }

    function fallbackForms(word) {
      const exact = root.fields.includes("exact") ? [word] : [];
      if (root.chain === "whoosh-default" || hasDigit(word)) return { exact, stem: [word], fold: [], parts: [] };
      const folded = root.fields.includes("fold") ? [stem(fold(word))] : [];
      return { exact, stem: [stem(word)], fold: folded, parts: [] };
    }

    /** The forms a query word is searched by (termtable.query_forms). */
    async function forms(word) {
      // Start loading the shards of the forms without a table entry at once (most words have
      // none), so a query word costs one round trip, not two.
      const guess = fallbackForms(word);
      for (const t of [...guess.stem, ...guess.fold]) shard(t).catch(() => {});
      const entry = ((await shard(word)).w || {})[word];
      if (entry === undefined) return fallbackForms(word);
      const [stems, folds, parts] = entry.split("|").map((x) => (x ? x.split(" ") : []));
      return { exact: root.fields.includes("exact") ? [word] : [], stem: stems, fold: folds, parts };
    }

    const unions = new WeakMap();  // a term's entry -> its units' union, the stem field's weights and length bytes
    const unionDocs = new WeakMap();  // a long term's units file -> its units' union
    const fullEntries = new Map();  // term -> its entry with every list (fullEntry)

    function sums(deltas) {
      const out = []; let n = 0;
      for (const d of ints(deltas)) { n += d; out.push(n); }
      return out;
    }

    /** The numbers a packed list stands for (web._pack_ints: a string of base-91 digits, those
     * below PACK_LAST ending a number; "!" first: zigzag coded); anything else as it is. */
    function ints(x) {
      if (!packed(x)) return x;
      const out = [], signed = x.charCodeAt(0) === 33, last = root.pack;
      let acc = 0;
      for (let i = 1; i < x.length; i++) {
        const d = digit(x, i);  // (the backslash is not a digit)
        if (d >= last) acc = acc * (91 - last) + d - last;
        else {
          const v = acc * last + d;
          out.push(signed ? (v % 2 ? -(v + 1) / 2 : v / 2) : v);
          acc = 0;
        }
      }
      return out;
    }

    function packed(x) { return typeof x === "string" && (x[0] === " " || x[0] === "!"); }

    /** The digit a character of a packed list stands for (web.PACK_DIGITS). */
    function digit(x, i) { const d = x.charCodeAt(i) - 35; return d > 57 ? d - 1 : d; }

    /** The places a list of places stands for (web._places): null for 0 (all of them), a
     * bitmap ("~", then 6 places a digit) or packed deltas. */
    function placesOf(x) {
      if (x === 0) return null;
      if (typeof x !== "string" || x[0] !== "~") return sums(x);
      const out = [];
      for (let k = 1; k < x.length; k++) {
        const d = digit(x, k);
        for (let j = 0; j < 6; j++) if (d & (1 << j)) out.push(6 * (k - 1) + j);
      }
      return out;
    }

    /** The field whose lists a field's are (web._share_lists), or null. */
    function sharedWith(raw) { return typeof raw[1] === "string" && /^[a-z]/.test(raw[1]) ? raw[1] : null; }

    /** The union of a term's units in the scored fields, and the stem field's weight and length
     * byte at each of its places (0 where the stem field lacks the unit): web._share_units. */
    function unionOf(entry) {
      let u = unions.get(entry);
      if (!u) {
        const docs = sums(entry["*"][0]), s = entry.stem;
        const stemTfs = new Float64Array(docs.length), stemBytes = new Int32Array(docs.length);
        if (s) {
          const places = placesOf(s[1]), tfs = ints(s[2]);
          ints(s[3]).forEach((b, i) => {
            const at = places ? places[i] : i;
            stemTfs[at] = tfs ? tfs[i] : 1;
            stemBytes[at] = b;
          });
        }
        u = { docs, stemTfs, stemBytes };
        unions.set(entry, u);
      }
      return u;
    }

    /** A term's entry in its bucket: inline, or (a long one, web._long_entry) the files of its
     * units, its long positions by field and its weights, its document frequencies and its
     * recent part (inline or files again). */
    async function bucketEntry(term) {
      return ((await load(shardOf(term, term.includes(" ") ? "q" : "t"))).t || {})[term];  // web.in_pair_shard
    }

    /** The parts of a bucket entry, each as [units, positions by field, weights] (the units and
     * weights inline for an inline part), and the term's document frequencies by field (null:
     * each list's own). */
    function partsOf(entry) {
      if (!Array.isArray(entry)) return { parts: entry ? [[entry, {}, null]] : [], dfs: null };
      const recent = entry[4];
      const parts = [entry.slice(0, 3)];
      if (recent) parts.push(Array.isArray(recent) ? recent : [recent, {}, null]);
      return { parts, dfs: entry[3] || null };
    }

    /** A part's lists by field: a file's units and weights loaded side by side and put together
     * ([...units[f], ...weights[f]], web._units_and_weights). Its weights may be two files, the
     * second those of root.surfaceFields (web._weights_refs), loaded only where `surface`. */
    async function fullPart([units, , weights], surface) {
      if (weights === null) return units;
      const refs = typeof weights === "string" ? [weights] : surface ? weights : weights.slice(0, 1);
      const [u, ...ws] = await Promise.all([load(units), ...refs.map(load)]);
      const out = {};
      for (const f of Object.keys(u)) {
        const w = ws.find((x) => x[f]);
        out[f] = f === "*" ? u[f] : [...u[f], ...(w ? w[f] : [])];
      }
      return out;
    }

    /** A term's parts with every field's lists (the surface fields' only where `surface`), and
     * its document frequencies. */
    function fullEntry(term, surface) {
      const key = surface ? term + "\u0001" : term;
      if (!fullEntries.has(key)) {
        fullEntries.set(key, bucketEntry(term).then(async (entry) => {
          const { parts, dfs } = partsOf(entry);
          return { parts: await Promise.all(parts.map((part) => fullPart(part, surface))), dfs };
        }));
      }
      return fullEntries.get(key);
    }

    /** The units of `term` in `field`, ascending, without its weights (a long entry's units files
     * only): what counting the matches needs. */
    async function docsOf(field, term) {
      const { parts } = partsOf(await bucketEntry(term));
      const lists = await Promise.all(parts.map(async ([units, , weights]) => partDocs(weights === null ? units : await load(units), field)));
      return lists.length === 1 ? lists[0] : [].concat(...lists);
    }

    function partDocs(units, field) {
      const raw = (units || {})[field];
      if (!raw) return [];
      if (sharedWith(raw)) return partDocs(units, sharedWith(raw));  // web._share_lists
      if (!(units["*"] && root.unionFields.includes(field))) return sums(raw[1]);
      let all = unionDocs.get(units);
      if (!all) { all = sums(units["*"][0]); unionDocs.set(units, all); }
      return raw[1] === 0 ? all : placesOf(raw[1]).map((i) => all[i]);
    }

    /** Decoded postings of `term` in `field`: {df, docs, tfs, lb, fls, pos} or null (`lb`: whoosh's
     * field length bytes, `fls` the lengths they stand for). `pos` (stem and pair fields) is null
     * until `withPositions` when the positions live in files of their own. A long term's parts
     * hold units in ascending ranges: their lists follow each other. */
    async function postings(field, term) {
      const key = field + "\u0000" + term;
      if (postingsCache.has(key)) return postingsCache.get(key);
      const { parts, dfs } = await fullEntry(term, root.surfaceFields.includes(field));
      const ps = parts.map((entry) => partPostings(entry, field)).filter(Boolean);
      let p = ps.length > 1 ? joined(ps) : ps[0] || null;
      if (p && dfs) p = { ...p, df: dfs[field] };
      postingsCache.set(key, p);
      return p;
    }

    function partPostings(entry, field) {
      const raw = (entry || {})[field];
      if (!raw) return null;
      const lengths = (lb) => lb.map((b) => root.byteLengths[b]);
      if (sharedWith(raw)) {
        // the units and weights of another field of the term, its own length bytes as differences (web._share_lists)
        const base = partPostings(entry, sharedWith(raw)), diffs = ints(raw[2]);
        const lb = base.lb.map((b, i) => b + diffs[i]);
        return { df: raw[0], docs: base.docs, tfs: base.tfs, lb, fls: lengths(lb), pos: null, posRef: null, posLoaded: null };
      }
      let docs, tfs = ints(raw[2]) || null, lb = ints(raw[3]);
      const star = entry["*"];
      if (star && root.unionFields.includes(field)) {
        // the units as places in the union of the term's fields (0: all of it), web._share_units
        const u = unionOf(entry), places = placesOf(raw[1]);
        const at = (i) => (places ? places[i] : i);
        docs = places ? places.map((i) => u.docs[i]) : u.docs;
        if (star[1].includes(field)) {  // weights and length bytes as differences from the stem field's
          const diffs = tfs;
          tfs = lb.map((_, i) => (diffs ? diffs[i] : 0) + u.stemTfs[at(i)]);
          lb = lb.map((d, i) => d + u.stemBytes[at(i)]);
        }
      } else {
        docs = sums(raw[1]);
      }
      const inline = packed(raw[4]) || Array.isArray(raw[4]);
      return { df: raw[0], docs, tfs, lb, fls: lengths(lb), pos: inline ? decodePositions(raw[4], tfs, docs.length) : null,
               posRef: !inline && typeof raw[4] === "string" ? raw[4] : null, posLoaded: null };
    }

    /** Parts' postings one after the other (their positions joined by `withPositions`). */
    function joined(ps) {
      const cat = (k) => [].concat(...ps.map((p) => p[k]));
      const tfs = ps.some((p) => p.tfs) ? [].concat(...ps.map((p) => (p.tfs ? [...p.tfs] : p.docs.map(() => 1)))) : null;
      const pos = ps.every((p) => p.pos) ? cat("pos") : null;
      return { df: ps[0].df, docs: cat("docs"), tfs, lb: cat("lb"), fls: cat("fls"), pos, posRef: null, posLoaded: null, parts: ps };
    }

    /** Start loading the positions of `term` in `field` where its bucket names their files beside
     * those of its postings (web._small_or_ref): a phrase then waits for one round trip, not two.
     * Not where the term is in `below` units or more (a proximity reads such a file in blocks). */
    async function prefetchPositions(field, term, below = Infinity) {
      try {
        const { parts, dfs } = partsOf(await bucketEntry(term));
        if (dfs && dfs[field] >= below) return;
        for (const [, refs] of parts) if (refs[field]) load(refs[field]).catch(() => {});
      } catch (e) { /* the postings' own load reports it */ }
    }

    /** The positions of `n` units from their deltas (web._pack_positions: one unit's after
     * another's, as many as its tf, `tfs`; null: each 1), or from lists of deltas per unit. */
    function decodePositions(deltas, tfs, n) {
      if (!packed(deltas)) return deltas.map(sums);
      const flat = ints(deltas), out = [];
      let i = 0;
      for (let u = 0; u < n; u++) {
        const ps = [], end = i + (tfs ? tfs[u] : 1);
        for (let pos = 0; i < end; i++) { pos += flat[i]; ps.push(pos); }
        out.push(ps);
      }
      if (i !== flat.length) throw new Error(`positions: ${flat.length} deltas for ${i}`);
      return out;
    }

    /** The positions of `p` (a stem's postings) at `places` (in its units): Map(place ->
     * positions). A part whose positions are a file of their own is read in the blocks holding
     * those places (web._write_blocks: root.positionBlock units each) where they are a few of
     * its blocks, else (or where a block cannot be read) whole. */
    async function positionsAt(p, places) {
      const parts = p.parts || [p], out = new Map();
      let lo = 0;
      const jobs = parts.map((part) => {
        const first = lo, n = part.docs.length;
        lo += n;
        const mine = places.filter((i) => i >= first && i < first + n).map((i) => i - first);
        return partPositionsAt(part, mine).then((m) => { for (const [i, ps] of m) out.set(i + first, ps); });
      });
      await Promise.all(jobs);
      return out;
    }

    /** Whether a part's positions are also in blocks (web._blocked_positions). */
    function hasBlocks(part) {
      const B = root.positionBlock || 0;
      return Boolean(B && part.posRef && !part.pos && part.docs.length > B && part.docs.length >= root.positionBlocksFrom);
    }

    /** Units per block of a positions file of `n` units (web.block_size). */
    function blockSize(n) { return Math.max(root.positionBlock, Math.ceil(n / root.positionBlocksMax)); }

    async function partPositionsAt(part, places) {
      const n = part.docs.length, B = blockSize(n);
      const whole = async () => { await withPositions(part); return new Map(places.map((i) => [i, part.pos[i]])); };
      if (!places.length) return new Map();
      if (!hasBlocks(part)) return whole();
      const blocks = [...new Set(places.map((i) => Math.floor(i / B)))];
      if (blocks.length * BLOCKS_OF_WHOLE > Math.ceil(n / B)) return whole();
      part.blocks = part.blocks || new Map();
      let got;
      try {
        for (const b of blocks) {
          const tfs = part.tfs && part.tfs.slice(b * B, (b + 1) * B), units = Math.min(B, n - b * B);
          if (!part.blocks.has(b)) part.blocks.set(b, load(`${part.posRef}-${b * B}-${(b + 1) * B}`).then((ds) => decodePositions(ds, tfs, units)));
        }
        got = new Map(await Promise.all(blocks.map(async (b) => [b, await part.blocks.get(b)])));
      } catch (e) {
        return whole();
      }
      return new Map(places.map((i) => [i, got.get(Math.floor(i / B))[i % B]]));
    }

    /** `p` with its positions (a phrase needs them; a word query does not load them). */
    async function withPositions(p) {
      if (p && !p.pos && p.parts) {
        p.posLoaded = p.posLoaded || Promise.all(p.parts.map(withPositions)).then(() => { p.pos = [].concat(...p.parts.map((q) => q.pos)); });
        await p.posLoaded;
      } else if (p && !p.pos && p.posRef) {
        p.posLoaded = p.posLoaded || load(p.posRef).then((ds) => { p.pos = decodePositions(ds, p.tfs, p.docs.length); });
        await p.posLoaded;
      }
      return p;
    }

    /** The vocabulary shards of `field` that may hold terms starting with `p` (root.vocab names
     * each shard by its first term; the terms are sorted). */
    function vocabShards(field, p) {
      const list = root.vocab[field] || [];
      let i = 0;
      while (i + 1 < list.length && list[i + 1][0] <= p) i++;
      const out = [];
      for (let k = i; k < list.length && (k === i || list[k][0].startsWith(p)); k++) out.push("v/" + field + "-" + list[k][1]);
      return out;
    }

    /** The terms of `field` starting with `p` (whoosh's expand_prefix), each with the segments
     * whose lexicon holds it although none of their units do. */
    async function expand(field, p) {
      const out = [];
      for (const v of await Promise.all(vocabShards(field, p).map(load))) {
        v.t.forEach((t, k) => { if (t.startsWith(p)) out.push({ t, x: (v.x || {})[t] || [] }); });
      }
      return out;
    }

    /** The whoosh segment a unit belongs to (root.segs: [first unit number, documents]). */
    function segOf(n) {
      const segs = root.segs;
      let lo = 0, hi = segs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (segs[mid][0] <= n) lo = mid; else hi = mid - 1;
      }
      return lo;
    }

    /** whoosh's Prefix(field, p, boost) (query.terms.MultiTerm.matcher), segment by segment: the
     * terms of the segment starting with `p`; one term scores as a Term without the boost, more
     * are an Or of Terms (their scores added, times the boost) unless whoosh's Or turns to a
     * constant score of 1.0 (see WHOOSH_TOO_MANY_CLAUSES). */
    async function prefixPart(field, p, boost, needsCurrent) {
      const terms = await expand(field, p);
      const maps = await Promise.all(terms.map((e) => term(field, e.t, 1.0)));
      const count = root.segs.map(() => 0);
      terms.forEach((e, k) => {
        const segs = new Set(e.x);
        for (const d of maps[k].keys()) segs.add(segOf(d));
        for (const s of segs) count[s]++;
      });
      const lists = new Map();
      for (const m of maps) {
        for (const [d, sc] of m) {
          const l = lists.get(d);
          if (l) l.push(sc); else lists.set(d, [sc]);
        }
      }
      const out = new Map();
      for (const [d, scores] of lists) {
        const seg = segOf(d), n = count[seg];
        if (n === 1) out.set(d, scores[0]);
        else if (n < WHOOSH_TOO_MANY_CLAUSES && (n === 2 || needsCurrent || root.segs[seg][1] > WHOOSH_SMALL_SEGMENT)) {
          out.set(d, treeSum(scores) * boost);
        } else out.set(d, 1.0);
      }
      return out;
    }

    /** search._Builder.prefix: the Prefix queries of root.prefix (the fold field's on `p` folded). */
    async function prefixQuery(p, needsCurrent) {
      const parts = root.prefix.map(([field, boost]) => prefixPart(field, field === "fold" ? fold(p) : p, boost, needsCurrent));
      return or(await Promise.all(parts));
    }

    function bm25(idf, tf, fl, avgfl) {
      const B = root.B, K1 = root.K1;
      return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)));
    }

    /** A Term query as lists: {docs: unit numbers ascending, vals: their scores}, as whoosh's
     * BM25F with the term's boost. */
    async function termList(field, text, boost) {
      const p = await postings(field, text);
      if (!p) return { docs: [], vals: [] };
      const scorable = field !== "dnr";
      const idf = Math.log(root.N / (p.df + 1)) + 1;
      const avgfl = root.avgfl[field] || 1;
      const n = p.docs.length, vals = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const tf = p.tfs ? p.tfs[i] : 1;
        let s = scorable ? bm25(idf, tf, p.fls[i], avgfl) : tf;
        if (boost !== 1.0) s = s * boost;
        vals[i] = s;
      }
      return { docs: p.docs, vals };
    }

    /** A Term query: Map(unit number -> score). */
    async function term(field, text, boost) {
      const { docs, vals } = await termList(field, text, boost);
      const out = new Map();
      for (let i = 0; i < docs.length; i++) out.set(docs[i], vals[i]);
      return out;
    }

    /** `or` over term lists: each unit's scores added up in the tree's order, as `or` does, by
     * walking the lists side by side (a common word's fields hold some 37,000 units each). */
    function orLists(lists) {
      const k = lists.length, at = new Array(k).fill(0), vals = new Array(k);
      const out = new Map();
      for (;;) {
        let min = Infinity;
        for (let i = 0; i < k; i++) {
          const ds = lists[i].docs;
          if (at[i] < ds.length && ds[at[i]] < min) min = ds[at[i]];
        }
        if (min === Infinity) return out;
        for (let i = 0; i < k; i++) {
          const ds = lists[i].docs;
          vals[i] = at[i] < ds.length && ds[at[i]] === min ? lists[i].vals[at[i]++] : undefined;
        }
        out.set(min, treeSum(vals));
      }
    }

    /** whoosh's tree of unions: each unit's scores added up in the tree's order. */
    function or(maps) {
      if (maps.length === 1) return maps[0];
      const out = new Map();
      const vals = new Array(maps.length);
      for (const m of maps) {
        for (const d of m.keys()) {
          if (out.has(d)) continue;
          for (let i = 0; i < maps.length; i++) vals[i] = maps[i].get(d);
          out.set(d, treeSum(vals));
        }
      }
      return out;
    }

    function and(maps) {
      if (maps.length === 1) return maps[0];
      const out = new Map();
      const vals = new Array(maps.length);
      for (const d of maps[0].keys()) {
        let all = true;
        for (let i = 0; i < maps.length && all; i++) all = (vals[i] = maps[i].get(d)) !== undefined;
        if (all) out.set(d, treeSum(vals));
      }
      return out;
    }

    /** whoosh Phrase: every stem present, in order, each within `slop` of the span so far. */
    async function phrase(stems, slop, boost) {
      stems.forEach((t) => prefetchPositions("stem", t));
      const ps = await Promise.all(stems.map((t) => postings("stem", t).then(withPositions)));
      if (ps.some((p) => !p)) return new Map();
      const scores = await Promise.all(stems.map((t) => term("stem", t, 1.0)));
      const idx = ps.map((p) => new Map(p.docs.map((d, i) => [d, i])));
      const out = new Map();
      for (const d of ps[0].docs) {
        if (!idx.every((m) => m.has(d))) continue;
        const positions = ps.map((p, k) => p.pos[idx[k].get(d)]);
        if (!spansMatch(positions, slop)) continue;
        let s = treeSum(scores.map((m) => m.get(d)));
        if (boost !== 1.0) s = s * boost;
        out.set(d, s);
      }
      return out;
    }

    function spansMatch(positions, slop) {
      let aspans = positions[0].map((p) => [p, p]);
      for (let i = 1; i < positions.length && aspans.length; i++) {
        const bspans = positions[i];
        const found = new Map();
        for (const [as, ae] of aspans) {
          for (const b of bspans) {
            if (b < as) continue;
            if (b > ae + slop) break;
            const dist = (b <= ae) ? 0 : b - ae;
            if (dist >= 1 && dist <= slop) found.set(as + ":" + b, [as, Math.max(ae, b)]);
          }
        }
        aspans = [...found.values()];
      }
      return aspans.length > 0;
    }

    /** The (field, term) pairs a word is searched by (search._Builder.word): each form in its
     * field; a compound part and the title by the stems. */
    function wordTerms(f) {
      const out = [];
      for (const field of root.fields) for (const t of field === "parts" ? f.stem : f[field]) out.push([field, t]);
      for (const t of f.stem) out.push(["title", t]);
      return out;
    }

    async function wordQuery(word) {
      const pairs = wordTerms(await forms(word));
      return orLists(await Promise.all(pairs.map(([field, t]) => termList(field, t, root.boosts[field]))));
    }

    /** A one-word query's first hits as the bundle lists them (toplists: the command line's own,
     * in whoosh's order), with the units it matches, found without weights; null where the query
     * is anything else, the word is not listed or the hits asked for go beyond the list. */
    async function listedHits(q, opts, limit) {
      const c = q.slots.length === 1 && q.slots[0].length === 1 ? q.slots[0][0] : null;
      const plain = !q.excluded.length && !q.namnd.length && !q.parti.length && !q.dnr.length && !q.dateFrom && !q.dateTo;
      if (!c || c.kind !== "word" || !plain || opts.count || (opts.sort || "relevance") !== "relevance") return null;
      const word = c.words[0];
      // forms() starts loading its forms' shards at once: a word that is not listed needs them next
      const f = forms(word);
      f.catch(() => {});
      if (!root.lists || !((await shard(word)).l || []).includes(word)) return null;
      const lists = root.lists, file = "r/" + (fnv1a(word) % lists.files) + "-" + lists.tag;
      const docLists = f.then((fs) => Promise.all(wordTerms(fs).map(([field, t]) => docsOf(field, t))));
      docLists.catch(() => {});
      const listed = (await load(file))[word];
      const nums = ints(listed[0]), scores = ints(listed[1]), cut = (opts.offset || 0) + limit;
      if (cut > nums.length && nums.length >= lists.hits) return null;  // beyond the list
      nums.slice(0, cut).forEach((n) => loadUnit(n).catch(() => {}));
      // whoosh's first `cut` hits, sorted as search._by_score_then_date (as `rank` does)
      const meta = await metaTable();
      const shown = nums.slice(0, cut).map((n, i) => [n, i])
        .sort((x, y) => scores[y[1]] - scores[x[1]] || cmpDesc(meta.datum(x[0]), meta.datum(y[0])) || x[1] - y[1])
        .slice(opts.offset || 0).map((x) => x[0]);
      const docs = new Set();
      for (const l of await docLists) for (const d of l) docs.add(d);
      const at = new Map(nums.map((n, i) => [n, i]));
      const matched = [...docs].filter((n) => meta.has(n));
      return { matched, shown, scores: new Map(shown.map((n) => [n, scores[at.get(n)] / 1e4])) };
    }

    /** phrases.plan: each pair of neighbours with a function word (root.pairs), then each word
     * in no such pair: [isPair, index of its (first) word]. */
    function plan(stems) {
      const isPair = (a, b) => root.pairs.includes(a) || root.pairs.includes(b);
      const items = [], covered = new Set();
      for (let k = 0; k + 1 < stems.length; k++) {
        if (isPair(stems[k], stems[k + 1])) { items.push([true, k]); covered.add(k); covered.add(k + 1); }
      }
      for (let k = 0; k < stems.length; k++) if (!covered.has(k)) items.push([false, k]);
      return items;
    }

    /** Where unit d is in a sorted list of units, or -1. */
    function find(docs, d) {
      let lo = 0, hi = docs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (docs[mid] < d) lo = mid + 1; else hi = mid;
      }
      return lo < docs.length && docs[lo] === d ? lo : -1;
    }

    /** phrases.PairPhrase, from the exported pair postings: each item of the plan is a term (a
     * pair at its first word's position, or a word); the units holding every item at its offset
     * from one start; each item scored by BM25 on its frequency there (a lone item: its weight)
     * with the unit's stem-field length (the pair postings carry it), added up in the plan's order;
     * a pair's df is the number of units holding it (phrases.item_idfs). */
    async function pairPhrase(stems) {
      const items = plan(stems);
      const lone = items.length === 1;
      const lists = await Promise.all(items.map(([pair, k]) => {
        const [field, t] = pair ? ["pair", stems[k] + " " + stems[k + 1]] : ["stem", stems[k]];
        if (!lone) prefetchPositions(field, t);
        const p = postings(field, t);
        return lone ? p : p.then(withPositions);
      }));
      const out = new Map();
      if (lists.some((p) => !p)) return out;
      const idfs = lists.map((p) => Math.log(root.N / (p.df + 1)) + 1);
      const avgfl = root.avgfl.stem || 1;
      const offsets = items.map(([, k]) => k);
      const rarest = lists.reduce((r, p, j) => (p.docs.length < lists[r].docs.length ? j : r), 0);
      lists[rarest].docs.forEach((d) => {
        const at = lists.map((p) => find(p.docs, d));
        if (at.includes(-1)) return;
        const tfs = lone ? [lists[0].tfs ? lists[0].tfs[at[0]] : 1] : lists.map((p, j) => p.pos[at[j]].length);
        if (!lone && !aligned(lists.map((p, j) => p.pos[at[j]]), offsets)) return;
        const fl = lists[0].fls[at[0]];
        let s = 0.0;
        tfs.forEach((tf, j) => { s += bm25(idfs[j], tf, fl, avgfl); });
        out.set(d, s);
      });
      return out;
    }

    /** phrases._aligned: whether some p has p + offsets[k] in positions[k] for every k. */
    function aligned(positions, offsets) {
      let starts = new Set(positions[0].map((p) => p - offsets[0]));
      for (let k = 1; k < positions.length && starts.size; k++) {
        const later = new Set(positions[k].map((p) => p - offsets[k]));
        starts = new Set([...starts].filter((p) => later.has(p)));
      }
      return starts.size > 0;
    }

    async function phraseQuery(words, slop) {
      const stems = await Promise.all(words.map(async (w) => (await forms(w)).stem[0]));
      if (root.pairs && slop === 1) return pairPhrase(stems);
      return phrase(stems, slop, 1.0);
    }

    /** search.dnr_key: folded lower case, single spaces, numbers without leading zeros. */
    function dnrKey(dnr) {
      const key = fold(dnr.toLowerCase().split(/\s+/).filter(Boolean).join(" "));
      return key.replace(/\d+/g, (m) => m.replace(/^0+(?=\d)/, ""));
    }

    async function dnrValues(dnr) {
      const key = dnrKey(dnr);
      return ((await shard(key)).d || {})[key] || [];
    }

    async function dnrQuery(dnr) {
      const values = await dnrValues(dnr);
      if (!values.length) return null;
      return or(await Promise.all(values.map((v) => term("dnr", v, 1.0))));
    }

    async function clauseQuery(c, needsCurrent) {
      if (c.kind === "word") return wordQuery(c.words[0]);
      if (c.kind === "phrase") return phraseQuery(c.words, 1);
      if (c.kind === "prefix") return prefixQuery(c.words[0], needsCurrent);
      return dnrQuery(c.words[0]);
    }

    /** The query's proximity (search._Builder.proximity: a sloppy phrase of its plain words'
     * stems, boosted) as {extra: Map(unit -> the score it adds where the words are near; every
     * unit holding all the stems), near(units) -> the units of those where they are}; null where
     * there is none. Only the units whose rank it could change are checked (addProximity), so a
     * common word's positions are read in the blocks that hold them (positionsAt). */
    async function proximity(q) {
      const words = [];
      for (const slot of q.slots) if (slot.length === 1) for (const c of slot) if (c.kind === "word") words.push(c.words[0]);
      if (words.length < 2 || words.length > 8) return null;
      const stems = await Promise.all(words.map(async (w) => (await forms(w)).stem[0]));
      stems.forEach((t) => prefetchPositions("stem", t, root.positionBlocksFrom));
      const ps = await Promise.all(stems.map((t) => postings("stem", t)));
      if (ps.some((p) => !p)) return null;
      // a file without blocks is read whole in any case: at once, beside the other postings
      for (const p of ps) for (const part of p.parts || [p]) if (!hasBlocks(part)) withPositions(part).catch(() => {});
      const scores = await Promise.all(stems.map((t) => term("stem", t, 1.0)));
      const extra = new Map();
      for (const d of ps[0].docs) {
        const vals = scores.map((m) => m.get(d));
        if (vals.some((v) => v === undefined)) continue;
        let s = treeSum(vals);  // as phrase() scores the phrase, then its boost
        if (root.proximity.boost !== 1.0) s = s * root.proximity.boost;
        extra.set(d, s);
      }
      async function near(units) {
        const places = ps.map((p) => units.map((d) => find(p.docs, d)));
        const pos = await Promise.all(ps.map((p, k) => positionsAt(p, places[k])));
        return new Set(units.filter((d, j) => spansMatch(pos.map((m, k) => m.get(places[k][j])), root.proximity.slop)));
      }
      return { extra, near };
    }

    /** Add the proximity's score to the units of `matched` where the words are near, as far as
     * the first `k` by `sort` can tell: by relevance, every unit that would reach the k-th best
     * score without it (a lower bound of the k-th with it) if its words were near; by date, every
     * unit as new as the k-th newest (equal dates are ordered by score). The others keep a score
     * without it, which ranks them below the first k all the same. */
    async function addProximity(scores, prox, matched, meta, sort, k) {
      const cands = [];
      if (sort === "date") {
        const newest = firstK(matched, k, (a, b) => cmpDesc(meta.datum(a), meta.datum(b)));
        const last = newest.length < k ? null : meta.datum(newest[k - 1]) || "";
        for (const n of matched) if (prox.extra.has(n) && (last === null || (meta.datum(n) || "") >= last)) cands.push(n);
      } else {
        const best = topByScore(matched, scores, k);
        const least = best.length < k ? -Infinity : scores.get(best[k - 1]);
        for (const n of matched) {
          const e = prox.extra.get(n);
          if (e !== undefined && scores.get(n) + e >= least) cands.push(n);
        }
      }
      for (const n of await prox.near(cands)) scores.set(n, scores.get(n) + prox.extra.get(n));
    }

    const partiLists = new Map([["", []]]);  // a unit's parties as written ("3.7") -> [3, 7], shared
    function partiList(text) {
      const key = text || "";
      if (!partiLists.has(key)) partiLists.set(key, key.split(".").map(Number));
      return partiLists.get(key);
    }

    /** The units' filter values, read by unit number from the file of all units' values fetched
     * with the page (web._write_meta; its packed columns are decoded as it arrives, see init):
     * has(n) a unit with that number, namnd(n) its index (-1 none), parti(n) indexes, datum(n)
     * ("" none), year(n). */
    async function metaTable() {
      const all = await load(root.filters);
      const size = root.metaChunk;
      const chunk = (n) => metaChunk(all, Math.floor(n / size));
      const datum = (n) => { const i = chunk(n).d[n % size]; return i ? all.dates[i - 1] : ""; };
      return {
        has(n) { const m = chunk(n); return m !== null && m.n[n % size] > 0; },
        namnd(n) { return chunk(n).n[n % size] - 2; },
        parti(n) { return partiList(all.sets[chunk(n).p[n % size]]); },
        datum,
        year(n) { const y = chunk(n).y[n % size]; return y !== undefined ? y : datum(n).slice(0, 4); },
      };
    }

    const metaChunks = new WeakMap();  // the filter file -> its decoded chunks
    function metaChunk(all, c) {
      if (!metaChunks.has(all)) metaChunks.set(all, []);
      const decoded = metaChunks.get(all);
      if (decoded[c] === undefined) {
        const raw = all.chunks[c];
        decoded[c] = raw ? { n: ints(raw.n), p: ints(raw.p), d: ints(raw.d), y: raw.y } : null;
      }
      return decoded[c];
    }

    /** A unit's shown fields: its file is named by its number and the tag of the numbers from the
     * last entry of root.unitTags ([first number, tag], ascending) that begins at or before it. */
    function loadUnit(n) {
      const tags = root.unitTags;
      let lo = 0, hi = tags.length - 1;
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (tags[mid][0] <= n) lo = mid; else hi = mid - 1; }
      return load("u/" + n + "-" + tags[lo][1]);
    }

    /** Every unit's number, ascending. */
    async function allNums() {
      const all = await load(root.filters);
      const nums = [];
      all.chunks.forEach((_, c) => {
        const m = metaChunk(all, c);
        if (m) m.n.forEach((v, k) => { if (v > 0) nums.push(c * root.metaChunk + k); });
      });
      return nums;
    }

    /** Tests of a unit's filter values, one per filter of the query; `none`: a filter names no value
     * the index holds (search._Builder.build then gives None). */
    async function filterSets(q, meta) {
      const tests = [];
      if (q.namnd.length) {
        const keys = q.namnd.map((n) => fold(n.normalize("NFC").toLowerCase()));
        const ok = new Set(root.namnd.map((nk, i) => (keys.some((k) => nk[1].includes(k)) ? i : -1)).filter((i) => i >= 0));
        tests.push((n) => ok.has(meta.namnd(n)));
        tests.none = tests.none || !ok.size;
      }
      if (q.parti.length) {
        const want = new Set(q.parti.map((p) => p.toLowerCase()));
        const ok = new Set(root.parti.map((p, i) => (want.has(p.toLowerCase()) ? i : -1)).filter((i) => i >= 0));
        tests.push((n) => meta.parti(n).some((i) => ok.has(i)));
        tests.none = tests.none || !ok.size;
      }
      if (q.dnr.length) {
        const maps = (await Promise.all(q.dnr.map(dnrQuery))).filter(Boolean);
        const ok = new Set(maps.flatMap((m) => [...m.keys()]));
        tests.push((n) => ok.has(n));
        tests.none = tests.none || !maps.length;
      }
      if (q.dateFrom || q.dateTo) {
        tests.push((n) => { const d = meta.datum(n); return d !== "" && (!q.dateFrom || d >= q.dateFrom) && (!q.dateTo || d <= q.dateTo); });
      }
      return tests;
    }

    /** Run a query: {total, hits: [{num, score, unit}], facets, suggestion}; as search.search. */
    async function search(text, opts = {}) {
      const res = await searchOnce(text, opts);
      res.suggestion = opts.suggest === false ? null : await suggest(text, res.query, res.total);
      return res;
    }

    /** search without the suggestion; `opts.count`: only the total (no unit is loaded). */
    async function searchOnce(text, opts = {}) {
      await init();
      const limit = opts.limit || 10;
      const q = parse(text);
      if (opts.namnd) q.namnd.push(...[].concat(opts.namnd));
      if (opts.parti) q.parti.push(...[].concat(opts.parti));
      if (opts.from) q.dateFrom = dateBound(opts.from, false);
      if (opts.to) q.dateTo = dateBound(opts.to, true);
      const empty = { total: 0, hits: [], facets: { namnd: [], parti: [], year: [] }, query: q };
      const listed = await listedHits(q, opts, limit);
      if (listed) return answer(q, listed.matched, listed.shown, listed.scores);
      const musts = [];
      // A sort by date makes whoosh keep every matcher on the current match (see prefixPart).
      const needsCurrent = (opts.sort || "relevance") === "date";
      const clauseOf = (c) => clauseQuery(c, needsCurrent);
      const proxFound = proximity(q);  // beside the words' postings: it starts loading what it reads whole
      proxFound.catch(() => {});
      const slots = await Promise.all(q.slots.map((slot) => Promise.all(slot.map(clauseOf))));
      for (const found of slots) {
        const alts = found.filter(Boolean);
        if (!alts.length) return empty;
        musts.push(or(alts));
      }
      const hasFilters = q.namnd.length || q.parti.length || q.dnr.length || q.dateFrom || q.dateTo;
      if (!musts.length) {
        if (!(q.excluded.length || hasFilters)) return empty;
        musts.push(new Map((await allNums()).map((n) => [n, 1.0])));
      }
      const scores = and(musts);
      const prox = await proxFound;
      const negs = (await Promise.all(q.excluded.map(clauseOf))).filter(Boolean);
      for (const n of negs) for (const d of n.keys()) scores.delete(d);
      const sort = opts.sort || "relevance", k = limit + (opts.offset || 0);
      if (!prox && !hasFilters && !opts.count && sort === "relevance") {
        // Without filters the units shown are the top by score: fetch them while the filter data loads.
        topByScore(scores.keys(), scores, k).slice(opts.offset || 0).forEach((n) => loadUnit(n).catch(() => {}));
      }
      const meta = await metaTable();
      const tests = await filterSets(q, meta);
      const matched = [...scores.keys()].filter((n) => meta.has(n) && tests.every((t) => t(n)));
      if (opts.count) return { total: matched.length, query: q };
      if (prox) await addProximity(scores, prox, matched, meta, sort, k);
      const ranked = rank(matched, scores, meta, sort, k);
      return answer(q, matched, ranked.slice(opts.offset || 0), scores);
    }

    /** The result of query `q`: its `matched` units (those the filter file holds) counted, the
     * `shown` ones loaded. */
    async function answer(q, matched, shown, scores) {
      const meta = await metaTable();
      const units = await Promise.all(shown.map(loadUnit));
      const hits = shown.map((n, i) => ({ num: n, score: round4(scores.get(n)), unit: units[i] }));
      return { total: matched.length, hits, facets: facetCounts(matched, meta), query: q };
    }

    // ---------------------------------------------------------------------------- "Menade du"
    const termIndex = new WeakMap();  // a loaded vocabulary shard -> Map(term -> its place)

    /** The entries ({t, df, cf}) of `words` that the vocabulary of `field` holds. */
    async function lookup(field, words) {
      const list = root.vocab[field] || [];
      const byShard = new Map();
      for (const w of words) {
        let lo = 0, hi = list.length - 1;
        while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (list[mid][0] <= w) lo = mid; else hi = mid - 1; }
        if (!byShard.has(lo)) byShard.set(lo, []);
        byShard.get(lo).push(w);
      }
      const out = new Map();
      await Promise.all([...byShard].map(async ([i, ws]) => {
        const v = await load("v/" + field + "-" + list[i][1]);
        if (!termIndex.has(v)) termIndex.set(v, new Map(v.t.map((t, k) => [t, k])));
        const at = termIndex.get(v);
        for (const w of ws) if (at.has(w)) out.set(w, { t: w, df: v.df[at.get(w)], cf: v.cf[at.get(w)] });
      }));
      return out;
    }

    /** Python's order of strings (by code point). */
    function cmpCodePoints(a, b) {
      const x = Array.from(a), y = Array.from(b);
      for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i].codePointAt(0) - y[i].codePointAt(0);
      return x.length - y.length;
    }

    /** search._edits1: every string one deletion, swap, replacement or insertion away. */
    function edits1(word) {
      const cs = Array.from(word), letters = Array.from(root.suggest.letters), out = new Set();
      for (let i = 0; i <= cs.length; i++) {
        const a = cs.slice(0, i).join(""), b = cs.slice(i), rest = b.slice(1).join("");
        if (b.length) out.add(a + rest);
        if (b.length > 1) out.add(a + b[1] + b[0] + b.slice(2).join(""));
        for (const c of letters) {
          if (b.length) out.add(a + c + rest);
          out.add(a + c + b.join(""));
        }
      }
      return out;
    }

    /** Levenshtein distance (whoosh's automaton on an index of one segment). */
    function levenshtein(s, t) {
      let prev = Array.from({ length: t.length + 1 }, (_, k) => k);
      for (let i = 1; i <= s.length; i++) {
        const row = [i];
        for (let j = 1; j <= t.length; j++) row.push(Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1)));
        prev = row;
      }
      return prev[t.length];
    }

    /** whoosh.support.levenshtein.damerau_levenshtein (whoosh's reader of several segments), line
     * by line: Python's negative list indexes wrap around, and so does `at`. */
    function damerau(seq1, seq2, limit) {
      const n = seq2.length;
      const at = (row, i) => row[i < 0 ? row.length + i : i];
      let twoago = null, oneago = null;
      let thisrow = [...Array.from({ length: n }, (_, k) => k + 1), 0];
      for (let x = 0; x < seq1.length; x++) {
        [twoago, oneago, thisrow] = [oneago, thisrow, [...new Array(n).fill(0), x + 1]];
        for (let y = 0; y < n; y++) {
          thisrow[y] = Math.min(oneago[y] + 1, at(thisrow, y - 1) + 1, at(oneago, y - 1) + (seq1[x] !== seq2[y] ? 1 : 0));
          if (x > 0 && y > 0 && seq1[x] === seq2[y - 1] && seq1[x - 1] === seq2[y] && seq1[x] !== seq2[y]) {
            thisrow[y] = Math.min(thisrow[y], at(twoago, y - 2) + 1);
          }
        }
        if (limit && x > limit && Math.min(...thisrow) > limit) return limit + 1;
      }
      return at(thisrow, n - 1);
    }

    /** whoosh's ReaderCorrector.suggest(word, limit=5, maxdist=2, prefix=2): the words within two
     * edits that start with the same two letters, the five most frequent (ties: the greater word). */
    async function corrector(field, word) {
      const cs = Array.from(word);
      const head = cs.slice(0, 2).join("");
      const within = root.segs.length > 1 ? (t) => damerau(Array.from(t), cs, 2) <= 2 : (t) => levenshtein(Array.from(t), cs) <= 2;
      const found = [];
      for (const v of await Promise.all(vocabShards(field, head).map(load))) {
        v.t.forEach((t, k) => {
          if (t.startsWith(head) && within(t)) found.push({ t, df: v.df[k], score: 0 - (2 + (1.0 / (v.cf[k] || 1)) * 0.5) });
        });
      }
      found.sort((a, b) => b.score - a.score || cmpCodePoints(b.t, a.t));
      return found.slice(0, 5);
    }

    /** search._closest_known: the most frequent known word one edit away; for a word of 8 letters
     * or more without one, the corrector's words two edits away. */
    async function closestKnown(field, word) {
      let found = [...(await lookup(field, [...edits1(word)].filter((w) => w !== word))).values()];
      if (!found.length && Array.from(word).length >= 8) found = (await corrector(field, word)).filter((e) => e.t !== word);
      if (!found.length) return null;
      return found.reduce((best, e) => (e.df > best.df || (e.df === best.df && cmpCodePoints(e.t, best.t) > 0) ? e : best)).t;
    }

    /** search._known_stem: whether a unit holds one of the word's stems (found, so not misspelt). */
    async function knownStem(word) {
      for (const s of (await forms(word)).stem) if (await postings("stem", s)) return true;
      return false;
    }

    /** search._suggest: the query with each unknown single word replaced by its closest known
     * word, when that finds more than `total` (filters given apart from the query are not applied,
     * as in the CLI). */
    async function suggest(text, q, total) {
      if (total >= root.suggest.below || !q.slots.some((slot) => slot.some((c) => c.kind !== "dnr"))) return null;
      const field = root.suggest.field;
      let changed = text;
      for (const slot of q.slots) {
        if (slot.length !== 1 || slot[0].kind !== "word") continue;
        const word = slot[0].words[0];
        if (!/^\p{L}+$/u.test(word) || (await lookup(field, [word])).has(word) || (await knownStem(word))) continue;
        const best = await closestKnown(field, word);
        if (best) changed = changed.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${word}(?![\\p{L}\\p{N}_])`, "giu"), () => best);
      }
      if (changed === text) return null;
      return (await searchOnce(changed, { count: true })).total > total ? changed : null;
    }

    function rank(nums, scores, meta, sort, limit) {
      if (sort === "date") {
        return firstK(nums, limit, (a, b) => cmpDesc(meta.datum(a), meta.datum(b)) || scores.get(b) - scores.get(a) || a - b);
      }
      const top = topByScore(nums, scores, limit);
      return top.map((n, i) => [n, i]).sort((x, y) => {
        const d = round4(scores.get(y[0])) - round4(scores.get(x[0]));
        return d || cmpDesc(meta.datum(x[0]), meta.datum(y[0])) || x[1] - y[1];
      }).map((x) => x[0]);
    }

    /** Matches per nämnd, parti and year: counted by value number, then named (values without a
     * name, "" or none, are not counted). */
    function facetCounts(nums, meta) {
      const namnd = new Int32Array(root.namnd.length), parti = new Int32Array(root.parti.length), year = new Map();
      for (const n of nums) {
        const i = meta.namnd(n);
        if (i >= 0) namnd[i]++;
        for (const j of meta.parti(n)) parti[j]++;
        const y = meta.year(n);
        year.set(y, (year.get(y) || 0) + 1);
      }
      const named = (counts, name) => {  // counts: by value number (an array) or value (a Map)
        const c = new Map();
        counts.forEach((v, k) => {
          const x = v ? name(k) : "";
          if (x !== "" && x != null) c.set(x, (c.get(x) || 0) + v);
        });
        return [...c.entries()];
      };
      const byCount = (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
      return {
        namnd: named(namnd, (i) => root.namnd[i][0]).sort(byCount),
        parti: named(parti, (i) => root.parti[i]).sort(byCount),
        year: named(year, (y) => y).sort((a, b) => (a[0] < b[0] ? 1 : -1)),
      };
    }

    // ------------------------------------------------------------------------ snippets
    /** What marks the snippets of query `q`'s hits as `search` does (search._hit,
     * snippets.find_matches): each word or phrase clause by its words' forms (a phrase as one
     * span, never its function words alone), each prefix; returns unit -> {text, spans}, the
     * snippet and its marked [start, end) offsets. */
    async function highlighter(q) {
      const all = q.slots.flat();
      const clauses = all.filter((c) => c.kind === "word" || c.kind === "phrase").map((c) => c.words);
      const prefixes = all.filter((c) => c.kind === "prefix").map((c) => c.words[0]);
      const keySet = (f) => new Set([...f.exact.map((t) => "x:" + t), ...f.stem.map((t) => "s:" + t), ...f.fold.map((t) => "f:" + t)]);
      const hl = {
        clauseKeys: await Promise.all(clauses.map((c) => Promise.all(c.map(async (w) => keySet(await forms(w)))))),
        prefixes: prefixes.map((p) => [p, fold(p)]),
        longest: clauses.length ? Math.max(...clauses.map((c) => c.length)) : 1,
        scan: await scanFor([...clauses.filter((c) => c.length).map(longestWord), ...prefixes]),
      };
      return (unit) => makeSnippet(unit.body, findMatches(unit.body, hl, unit.k));
    }

    /** snippets._tokens_to_check's regex: in a long text only the windows around a word holding
     * the folded beginning of an anchor word's forms are tokenised (null: tokenise it all). */
    async function scanFor(anchors) {
      if (!anchors.length || !anchors.every((w) => /^\p{L}+$/u.test(w))) return null;
      const needles = new Set();
      for (const w of anchors) {
        const f = await forms(w);
        for (const form of [w, ...f.stem, ...f.fold]) {
          const needle = foldSameLength(form).slice(0, 4);
          if (needle.length < 3) return null;
          needles.add(needle);
        }
      }
      const alts = [...needles].sort().map((n) => n.replace(/[\^$\\.*+?()[\]{}|/]/g, "\\$&"));
      return new RegExp("[\\p{L}\\p{N}]*(?:" + alts.join("|") + ")", "giu");
    }

    /** snippets._tokens_to_check: the tokens that may match, null between two windows. */
    function tokensToCheck(text, hl) {
      if (text.length < SCAN_FROM_CHARS || !hl.scan) return tokenize(text);
      const out = [];
      const reach = SPAN_CHARS_PER_WORD * hl.longest;
      let lastEnd = -1;
      for (const m of foldSameLength(text).matchAll(hl.scan)) {
        if (m.index < lastEnd) continue;
        let start = Math.max(lastEnd, 0, m.index - reach);
        while (start > Math.max(lastEnd, 0) && !isSpace(text[start - 1])) start--;
        let end = Math.min(text.length, m.index + m[0].length + reach);
        while (end < text.length && !isSpace(text[end])) end++;
        if (start > lastEnd) out.push(null);
        for (const t of tokenize(text.slice(start, end))) out.push({ ...t, start: t.start + start, end: t.end + start });
        lastEnd = end;
      }
      return out;
    }

    /** A word's forms as snippets._keys gives them for a text's word: what the page computes,
     * with the lemmas' and compound parts' forms the unit's file lists (web._PageKeys). */
    function textKeys(word, extra) {
      const e = extra ? extra[word] : undefined;
      if (e !== undefined && e[0] === "=") return new Set(e.slice(1).split(" "));
      const keys = new Set();
      if (root.fields.includes("exact")) keys.add("x:" + word);
      if (root.chain === "whoosh-default" || hasDigit(word)) keys.add("s:" + word);
      else {
        keys.add("s:" + stem(word));
        if (root.fields.includes("fold")) keys.add("f:" + stem(fold(word)));
      }
      if (e) for (const k of e.split(" ")) keys.add(k[0] === "~" ? "f:" + k.slice(1) : "s:" + k);
      return keys;
    }

    /** snippets.find_matches: [{start, end, clause}], in text order, none inside another. */
    function findMatches(text, hl, extra) {
      const tokens = tokensToCheck(text, hl);
      const known = new Map();
      const keys = tokens.map((t) => {
        if (!t) return null;
        if (!known.has(t.word)) known.set(t.word, textKeys(t.word, extra));
        return known.get(t.word);
      });
      const shares = (a, b) => { for (const k of a) if (b.has(k)) return true; return false; };
      const matches = [];
      hl.clauseKeys.forEach((words, ci) => {
        const n = words.length;
        for (let i = 0; n && i + n <= tokens.length; i++) {
          let all = true;
          for (let k = 0; k < n && all; k++) all = keys[i + k] !== null && shares(words[k], keys[i + k]);
          if (all) matches.push({ start: tokens[i].start, end: tokens[i + n - 1].end, clause: ci });
        }
      });
      hl.prefixes.forEach(([p, folded], pi) => {
        for (const t of tokens) {
          if (t && (t.word.startsWith(p) || fold(t.word).startsWith(folded))) {
            matches.push({ start: t.start, end: t.end, clause: hl.clauseKeys.length + pi });
          }
        }
      });
      matches.sort((a, b) => a.start - b.start || b.end - a.end);
      const kept = [];
      for (const m of matches) if (!kept.length || m.start >= kept[kept.length - 1].end) kept.push(m);
      return kept;
    }

    return { init, search, searchOnce, corrector, forms, fallbackForms, highlighter, root: () => root };
  }

  function cmpDesc(a, b) { return a === b ? 0 : (a || "") < (b || "") ? 1 : -1; }
  function round4(x) { return Math.round(Math.abs(x) * 1e4) / 1e4; }

  // ------------------------------------------------------------------------------ snippets
  // snippets.make_snippet: up to three passages of about 200 characters that cover the most
  // distinct query clauses, in text order, and the matches' offsets in the snippet.
  const PASSAGE_CHARS = 200, MAX_PASSAGES = 3, ELLIPSIS = " … ";
  const SCAN_FROM_CHARS = 4000, SPAN_CHARS_PER_WORD = 40;
  const SPACE = /[\s\x1c-\x1f\x85]/, SPACES = /[\s\x1c-\x1f\x85]/g;
  const SAME_LENGTH_FOLD = { "å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "a", "ø": "o",
    "Å": "A", "Ä": "A", "Ö": "O", "É": "E", "È": "E", "Ü": "U", "Æ": "A", "Ø": "O" };

  /** Python's str.isspace (JS's \s also holds U+FEFF and lacks U+001C-U+001F and U+0085). */
  function isSpace(c) { return c !== "\ufeff" && SPACE.test(c); }
  function flat(s) { return s.replace(SPACES, (c) => (c === "\ufeff" ? c : " ")); }
  function wordStart(text, i) { if (i <= 0) return 0; while (i > 0 && !isSpace(text[i - 1])) i--; return i; }
  function wordEnd(text, i) { while (i < text.length && !isSpace(text[i])) i++; return i; }
  function foldSameLength(text) { return text.replace(/[åäöéèüæøÅÄÖÉÈÜÆØ]/g, (c) => SAME_LENGTH_FOLD[c]); }
  function longestWord(words) { return words.reduce((a, b) => (b.length > a.length ? b : a)); }

  /** The snippet of `text` and its marked spans, for matches from findMatches. */
  function makeSnippet(text, matches, width = PASSAGE_CHARS, passages = MAX_PASSAGES) {
    if (!matches.length) {
      const end = wordEnd(text, Math.min(width, text.length));
      return { text: flat(text.slice(0, end)) + (end < text.length ? ELLIPSIS.trimEnd() : ""), spans: [] };
    }
    const chosen = chooseWindows(text, matches, width, passages);
    const spans = [];
    let out = "";
    chosen.forEach(([ws, we], n) => {
      const prefix = n === 0 ? (ws > 0 ? ELLIPSIS.trimStart() : "") : ELLIPSIS;
      for (const m of matches) {
        if (m.start >= ws && m.end <= we) {
          const s = out.length + prefix.length + m.start - ws;
          spans.push([s, s + m.end - m.start]);
        }
      }
      out += prefix + flat(text.slice(ws, we));
    });
    return { text: out + (chosen[chosen.length - 1][1] < text.length ? ELLIPSIS.trimEnd() : ""), spans };
  }

  /** snippets._choose_windows: a window per match, the ones with the most distinct clauses and
   * matches first, each new one not overlapping the chosen and adding a clause. */
  function chooseWindows(text, matches, width, passages) {
    const cands = matches.map((m, i) => {
      const start = wordStart(text, Math.max(0, m.start - Math.floor(width / 4)));
      const end = wordEnd(text, Math.min(text.length, start + width));
      const clauses = new Set();
      let n = 0;
      for (let j = i; j < matches.length; j++) if (matches[j].end <= end) { n++; clauses.add(matches[j].clause); }
      return { n, at: m.start, start, end, clauses };
    });
    cands.sort((a, b) => b.clauses.size - a.clauses.size || b.n - a.n || a.at - b.at);
    const chosen = [], covered = new Set();
    for (const c of cands) {
      if (chosen.length >= passages) break;
      if (chosen.some(([cs, ce]) => c.start < ce && c.end > cs)) continue;
      if (chosen.length && [...c.clauses].every((x) => covered.has(x))) continue;
      chosen.push([c.start, c.end]);
      c.clauses.forEach((x) => covered.add(x));
    }
    return chosen.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }

  const api = { tokenize, fold, parse, createEngine, makeSnippet, QueryError, fnv1a };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; return; }
  global.protokollsok = api;

  // ------------------------------------------------------------------------------ the page
  const script = document.currentScript;
  const BASE = new URL(".", script ? script.src : location.href).href;
  const pending = new Map();
  const cache = new Map();

  global.__protokollsok = function (name, data) {
    const p = pending.get(name);
    if (p) { pending.delete(name); p(data); }
  };

  /** Load data/<name>.js (a JSONP script: works from file:// too), once. */
  function load(name) {
    if (cache.has(name)) return cache.get(name);
    const pr = new Promise((resolve, reject) => {
      pending.set(name, resolve);
      const s = document.createElement("script");
      // root.js keeps its name across exports: never take it from a cache; the rest is content-named.
      s.src = BASE + "data/" + name + ".js" + (name === "root" ? "?v=" + Date.now() : "");
      s.onload = () => s.remove();
      s.onerror = () => { pending.delete(name); cache.delete(name); s.remove(); reject(new Error("kunde inte läsa " + name)); };
      document.head.appendChild(s);
    });
    cache.set(name, pr);
    return pr;
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src; s.onload = resolve; s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") e.textContent = v; else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  const KIND = { paragraf: "§", bilaga: "bilaga", dokument: "dokument" };

  function buildUi(host) {
    host.classList.add("protokollsok");
    const input = el("input", { type: "search", id: "ps-q", name: "q", autocomplete: "off",
      placeholder: "Sök i protokollen, t.ex. våld i nära relationer", "aria-describedby": "ps-help" });
    const select = (id, label) => {
      const s = el("select", { id, name: id });
      return [el("label", { for: id, text: label }), s];
    };
    const [lN, sN] = select("ps-namnd", "Nämnd");
    const [lP, sP] = select("ps-parti", "Parti");
    const [lY, sY] = select("ps-ar", "År");
    const [lS, sS] = select("ps-sort", "Sortera");
    sS.append(el("option", { value: "relevance", text: "Relevans" }), el("option", { value: "date", text: "Datum (nyast först)" }));
    const status = el("p", { class: "ps-status", role: "status", "aria-live": "polite" });
    const suggestion = el("p", { class: "ps-suggest", hidden: true });
    const list = el("ol", { class: "ps-hits", "aria-label": "Träffar" });
    const more = el("button", { type: "button", class: "ps-more", hidden: true, text: "Visa fler träffar" });
    const form = el("form", { role: "search", "aria-label": "Sök i protokoll", class: "ps-form" },
      el("label", { for: "ps-q", class: "ps-label", text: "Sök" }), input,
      el("p", { id: "ps-help", class: "ps-help",
        text: "Alla ord måste finnas. \"Citattecken\" för fras, -ord för att utesluta, OR för antingen eller, ord* för ord som börjar så." }),
      el("div", { class: "ps-filters" }, el("span", {}, lN, sN), el("span", {}, lP, sP), el("span", {}, lY, sY), el("span", {}, lS, sS)));
    host.replaceChildren(form, status, suggestion, list, more);
    return { form, input, sN, sP, sY, sS, status, suggestion, list, more };
  }

  function fillSelect(sel, pairs, current) {
    const opts = [el("option", { value: "", text: "Alla" })];
    let seen = false;
    for (const [v, n] of pairs) {
      opts.push(el("option", { value: v, text: `${v} (${n})`, selected: v === current }));
      seen = seen || v === current;
    }
    if (current && !seen) opts.push(el("option", { value: current, text: `${current} (0)`, selected: true }));
    sel.replaceChildren(...opts);
  }

  function hitElement(snippetOf, hit, sourceBase) {
    const u = hit.unit;
    const where = u.kind === "paragraf" ? `§ ${u.paragraf}` : u.paragraf != null ? `${KIND[u.kind] || u.kind} till § ${u.paragraf}` : (KIND[u.kind] || u.kind);
    const li = el("li", { class: "ps-hit", "data-id": u.id, "data-source": u.source, "data-kind": u.kind,
      "data-paragraf": u.paragraf == null ? "" : u.paragraf, "data-datum": u.datum || "", "data-score": hit.score,
      "data-ocr": u.ocr ? "true" : "false" });
    const link = el("a", { href: sourceBase + u.source.split("/").map(encodeURIComponent).join("/"), text: u.title || u.id });
    const metaParts = [u.namnd, u.datum, where, u.dnr.length ? "dnr " + u.dnr.join(", ") : null,
      u.parti.length ? "partier: " + u.parti.join(", ") : null].filter(Boolean);
    const snip = el("p", { class: "ps-snippet" });
    const { text, spans } = snippetOf(u);
    let at = 0;
    for (const [s, e] of spans) {
      if (s > at) snip.append(document.createTextNode(text.slice(at, s)));
      snip.append(el("mark", { text: text.slice(s, e) }));
      at = e;
    }
    if (at < text.length) snip.append(document.createTextNode(text.slice(at)));
    li.append(el("h3", {}, link), el("p", { class: "ps-meta", text: metaParts.join(" · ") }));
    if (u.ocr) li.append(el("p", { class: "ps-ocr", text: "OCR-rättad text: kontrollera citat mot originalet." }));
    li.append(snip);
    return li;
  }

  function readUrl() {
    const p = new URLSearchParams(location.search);
    return { q: p.get("q") || "", namnd: p.get("namnd") || "", parti: p.get("parti") || "", ar: p.get("ar") || "", sort: p.get("sort") || "relevance" };
  }

  function writeUrl(state) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(state)) if (v && !(k === "sort" && v === "relevance")) p.set(k, v);
    const qs = p.toString();
    try { history.replaceState(null, "", qs ? "?" + qs : location.pathname); } catch (e) { /* file:// in some browsers */ }
  }

  async function start(host) {
    if (!global.snowballSwedish) await loadScript(BASE + "snowball-sv.js");
    if (!document.querySelector('link[data-protokollsok]')) {
      document.head.append(el("link", { rel: "stylesheet", href: BASE + "style.css", "data-protokollsok": true }));
    }
    const engine = createEngine(load, global.snowballSwedish);
    global.protokollsok.engine = engine;  // for scripts on the embedding page (and the benchmark)
    const ui = buildUi(host);
    const sourceBase = host.getAttribute("data-source-base") || "";
    const state = readUrl();
    ui.input.value = state.q;
    ui.sS.value = state.sort;
    let shown = 10;
    let seq = 0;
    let timer = null;

    async function run(keepCount) {
      const my = ++seq;
      if (!keepCount) shown = 10;
      state.q = ui.input.value; state.namnd = ui.sN.value || state.namnd; state.parti = ui.sP.value || state.parti;
      state.ar = ui.sY.value || state.ar; state.sort = ui.sS.value;
      writeUrl(state);
      host.setAttribute("aria-busy", "true");
      try {
        const res = await engine.search(state.q, { namnd: state.namnd || null, parti: state.parti || null,
          from: state.ar || null, to: state.ar || null, sort: state.sort, limit: shown });
        if (my !== seq) return;
        const snippetOf = await engine.highlighter(res.query);
        if (my !== seq) return;
        fillSelect(ui.sN, res.facets.namnd, state.namnd);
        fillSelect(ui.sP, res.facets.parti, state.parti);
        fillSelect(ui.sY, res.facets.year, state.ar);
        ui.list.replaceChildren(...res.hits.map((h) => hitElement(snippetOf, h, sourceBase)));
        ui.status.textContent = state.q || state.namnd || state.parti || state.ar
          ? `${res.total} ${res.total === 1 ? "träff" : "träffar"}` : "";
        ui.more.hidden = res.total <= res.hits.length;
        showSuggestion(res.suggestion);
      } catch (e) {
        if (my !== seq) return;
        ui.list.replaceChildren();
        showSuggestion(null);
        ui.status.textContent = e instanceof QueryError ? e.message : "Fel: " + e.message;
      } finally {
        if (my === seq) { host.removeAttribute("aria-busy"); host.setAttribute("data-ready", "true"); }
      }
    }

    /** "Menade du: …" as a link that runs the suggested query. */
    function showSuggestion(text) {
      ui.suggestion.hidden = !text;
      if (!text) { ui.suggestion.replaceChildren(); return; }
      const p = new URLSearchParams(location.search);
      p.set("q", text);
      const link = el("a", { href: "?" + p.toString(), text });
      link.addEventListener("click", (e) => { e.preventDefault(); ui.input.value = text; run(false); });
      ui.suggestion.replaceChildren(document.createTextNode("Menade du: "), link);
    }

    const soon = () => { clearTimeout(timer); timer = setTimeout(() => run(false), 120); };
    ui.input.addEventListener("input", soon);
    ui.form.addEventListener("submit", (e) => { e.preventDefault(); run(false); });
    for (const [sel, key] of [[ui.sN, "namnd"], [ui.sP, "parti"], [ui.sY, "ar"]]) {
      sel.addEventListener("change", () => { state[key] = sel.value; run(false); });
    }
    ui.sS.addEventListener("change", () => run(false));
    ui.more.addEventListener("click", () => { shown += 10; run(true); });
    ui.input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { ui.input.value = ""; run(false); }
      if (e.key === "ArrowDown") { const a = ui.list.querySelector("a"); if (a) { e.preventDefault(); a.focus(); } }
    });
    ui.list.addEventListener("keydown", (e) => {
      const links = [...ui.list.querySelectorAll("a")];
      const i = links.indexOf(document.activeElement);
      if (i < 0) return;
      if (e.key === "ArrowDown" && links[i + 1]) { e.preventDefault(); links[i + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (links[i - 1] || ui.input).focus(); }
    });
    await engine.init();
    await run(false);
  }

  function boot() {
    const host = document.getElementById("protokollsok") || document.querySelector("[data-protokollsok]");
    if (host) start(host);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})(typeof globalThis !== "undefined" ? globalThis : this);
