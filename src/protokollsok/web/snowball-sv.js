/* Snowball Swedish stemmer, a hand port of the code the Snowball compiler generates from
 * swedish.sbl (Snowball 3.0.1, https://snowballstem.org/), so that the page stems exactly as
 * PyStemmer / snowballstemmer 3.0.1 do on the Python side (checked by tests/test_web_parity.py).
 *
 * Copyright (c) 2001, Dr Martin Porter; Copyright (c) 2004-2025, Richard Boulton and others.
 * All rights reserved.
 * Redistribution and use in source and binary forms, with or without modification, are permitted
 * provided that the following conditions are met: 1. Redistributions of source code must retain
 * the above copyright notice, this list of conditions and the following disclaimer. 2.
 * Redistributions in binary form must reproduce the above copyright notice, this list of
 * conditions and the following disclaimer in the documentation and/or other materials provided
 * with the distribution. 3. Neither the name of the Snowball project nor the names of its
 * contributors may be used to endorse or promote products derived from this software without
 * specific prior written permission.
 * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR
 * IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY
 * AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER OR
 * CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
 * CONSEQUENTIAL DAMAGES ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE.
 */
(function (root) {
  "use strict";
  const V = new Set("aeiouyäåö");
  const S_ENDING = new Set("bcdfghjklmnoprtvy");
  const OST_ENDING = new Set("iklnprtuv");
  const A0 = ["fab", "h", "pak", "rak", "stak", "kom", "iet", "cit", "dit", "alit", "ilit", "mit",
    "nit", "pit", "rit", "sit", "tit", "uit", "ivit", "kvit", "xit"];
  // main suffixes: 1 = delete, 2 = the "s" rule, 3 = the "et" rule
  const A1 = {};
  ("a arna erna heterna orna ad e ade ande arne are aste en anden aren heten ern ar er heter or " +
   "as arnas ernas ornas es ades andes ens arens hetens erns at andet het ast")
    .split(" ").forEach((s) => { A1[s] = 1; });
  A1.s = 2; A1.et = 3;
  const A2 = ["dd", "gd", "nn", "dt", "gt", "kt", "tt"];
  const A3 = { ig: 1, lig: 1, els: 1, fullt: 3, "öst": 2 };

  /** The longest key of `table` that ends `w` at `end` and starts at or after `lb`. */
  function longestSuffix(w, end, lb, table) {
    let best = null;
    for (let start = lb; start < end; start++) {
      const s = w.slice(start, end);
      if (Object.prototype.hasOwnProperty.call(table, s)) { best = s; break; }
    }
    return best;
  }

  function markP1(w) {
    if (w.length < 3) return w.length;
    let c = 0;
    while (c < w.length && !V.has(w[c])) c++;
    if (c >= w.length) return w.length;
    c++;
    while (c < w.length && V.has(w[c])) c++;
    if (c >= w.length) return w.length;
    c++;
    return Math.max(c, 3);
  }

  /** et_condition at position c (the start of "et"). */
  function etCondition(w, c) {
    if (c < 1 || V.has(w[c - 1])) return false;
    if (c < 2 || !V.has(w[c - 2])) return false;
    if (c - 2 <= 0) return false;
    const bang = {};
    A0.forEach((s) => { bang[s] = 1; });
    return longestSuffix(w, c, 0, bang) === null;
  }

  function mainSuffix(w, p1) {
    const s = longestSuffix(w, w.length, p1, A1);
    if (s === null) return w;
    const bra = w.length - s.length;
    const rule = A1[s];
    if (rule === 1) return w.slice(0, bra);
    if (rule === 2) {
      if (w.slice(bra - 2, bra) === "et" && bra - 2 >= 0 && etCondition(w, bra - 2)) return w.slice(0, bra - 2);
      if (bra > 0 && S_ENDING.has(w[bra - 1])) return w.slice(0, bra);
      return w;
    }
    return etCondition(w, bra) ? w.slice(0, bra) : w;
  }

  function consonantPair(w, p1) {
    const end = w.length;
    for (const pair of A2) {
      if (end - 2 >= p1 && w.slice(end - 2) === pair) return w.slice(0, end - 1);
    }
    return w;
  }

  function otherSuffix(w, p1) {
    const s = longestSuffix(w, w.length, p1, A3);
    if (s === null) return w;
    const bra = w.length - s.length;
    if (A3[s] === 1) return w.slice(0, bra);
    if (A3[s] === 3) return w.slice(0, bra) + "full";
    if (bra > 0 && OST_ENDING.has(w[bra - 1])) return w.slice(0, bra) + "ös";
    return w;
  }

  /** The Snowball Swedish stem of a lower-case word. */
  function stem(word) {
    const p1 = markP1(word);
    let w = mainSuffix(word, p1);
    w = consonantPair(w, p1);
    return otherSuffix(w, p1);
  }

  root.snowballSwedish = stem;
  if (typeof module !== "undefined" && module.exports) module.exports = stem;
})(typeof globalThis !== "undefined" ? globalThis : this);
