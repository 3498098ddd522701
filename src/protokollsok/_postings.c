/* One term's postings in whoosh 2.7's W3 format, as protokollsok.whoosh_writer._TermWriter.write
 * writes them in Python: the same term info and the same postings-file bytes (the pickles are
 * made by pickle.dumps, and compressed by the zlib that Python's zlib.compress uses, with its
 * settings, through one stream reset for each block instead of one set up and freed for each; the
 * tests compare the bytes with the Python loop's).
 *
 * write_term(postings, table, blocklimit, compression, fixed, min_compress, start)
 *   postings      list of (field, term, document, weight, value) tuples, sorted by document
 *   table         the field's length bytes, one per document (documents past its end: 0)
 *   blocklimit    postings per block
 *   compression   zlib level (0: none)
 *   fixed         the format's fixed value size, -1 for variable-size values
 *   min_compress  blocks shorter than this are stored uncompressed
 *   start         where the term's bytes will start in the postings file
 * -> (term info bytes, bytes for the postings file or None when the posting is inlined)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

static PyObject *pickle_dumps = NULL;
static z_stream stream;
static int stream_level = -1;  /* -1: no stream set up */

/* zlib.compress(data, level): deflateInit's defaults (15 window bits, memory level 8). */
static PyObject *deflated(PyObject *data, int level) {
    if (stream_level != level) {
        if (stream_level != -1) deflateEnd(&stream);
        stream_level = -1;
        memset(&stream, 0, sizeof stream);
        if (deflateInit(&stream, level) != Z_OK) {
            PyErr_SetString(PyExc_RuntimeError, "zlib: deflateInit failed");
            return NULL;
        }
        stream_level = level;
    } else if (deflateReset(&stream) != Z_OK) {
        PyErr_SetString(PyExc_RuntimeError, "zlib: deflateReset failed");
        return NULL;
    }
    uLong bound = deflateBound(&stream, (uLong)PyBytes_GET_SIZE(data));
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bound);
    if (!out) return NULL;
    stream.next_in = (Bytef *)PyBytes_AS_STRING(data);
    stream.avail_in = (uInt)PyBytes_GET_SIZE(data);
    stream.next_out = (Bytef *)PyBytes_AS_STRING(out);
    stream.avail_out = (uInt)bound;
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_RuntimeError, "zlib: deflate did not finish");
        return NULL;
    }
    if (_PyBytes_Resize(&out, (Py_ssize_t)stream.total_out) < 0) return NULL;
    return out;
}

static const char MAGIC[4] = {'W', '3', 'B', 'l'};

typedef struct {
    double weight;      /* sum of the stored (float32) weights */
    int has_minlen;     /* a block with a non-zero length byte was seen */
    int minlen;         /* smallest non-zero length byte */
    int maxlen;         /* largest length byte */
    double maxweight;   /* largest given weight; 0 with maxweight_is_int while none is above 0 */
    int maxweight_is_int;
} Stats;

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

static void put_f32(unsigned char *p, double v) {
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}

/* struct.pack("!BfIBBfII", ...) of W3TermInfo */
static PyObject *pack_terminfo(const Stats *s, int inlined, Py_ssize_t df, long minid, long maxid,
                               int with_extent, int64_t start, int32_t length) {
    unsigned char buf[23 + 12];
    Py_ssize_t n = 23;
    buf[0] = (unsigned char)inlined;
    put_f32(buf + 1, s->weight);
    put_u32(buf + 5, (uint32_t)df);
    buf[9] = (unsigned char)(s->has_minlen ? s->minlen : 0);
    buf[10] = (unsigned char)s->maxlen;
    put_f32(buf + 11, s->maxweight_is_int ? 0.0 : s->maxweight);
    put_u32(buf + 15, (uint32_t)minid);
    put_u32(buf + 19, (uint32_t)maxid);
    if (with_extent) {
        uint64_t u = (uint64_t)start;
        put_u32(buf + 23, (uint32_t)(u >> 32));
        put_u32(buf + 27, (uint32_t)u);
        put_u32(buf + 31, (uint32_t)length);
        n += 12;
    }
    return PyBytes_FromStringAndSize((const char *)buf, n);
}

/* whoosh_writer.PICKLE_PROTOCOL */
static PyObject *dumps3(PyObject *obj) {
    return PyObject_CallFunction(pickle_dumps, "Oi", obj, 3);
}

/* The block's statistics, folded into the term's as _TermStats.add does. */
static void block_stats(Stats *s, const double *weights, const float *wa, const unsigned char *lb,
                        Py_ssize_t n, int *bminlen, int *bmaxlen, double *bmaxw, int *bmaxw_int) {
    double sum = 0.0;
    int has = 0, mn = 0, mx = 0;
    double mw = 0.0;
    int mw_int = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        sum += (double)wa[i];
        if (lb[i]) {
            if (!has || lb[i] < mn) mn = lb[i];
            if (lb[i] > mx) mx = lb[i];
            has = 1;
        }
        if ((mw_int && weights[i] > 0.0) || (!mw_int && weights[i] > mw)) {
            mw = weights[i];
            mw_int = 0;
        }
    }
    s->weight += sum;
    if (has) {
        if (!s->has_minlen || mn < s->minlen) s->minlen = mn;
        s->has_minlen = 1;
    }
    if (mx > s->maxlen) s->maxlen = mx;
    if (!mw_int && (s->maxweight_is_int || mw > s->maxweight)) {
        s->maxweight = mw;
        s->maxweight_is_int = 0;
    }
    *bminlen = has ? mn : 0;
    *bmaxlen = mx;
    *bmaxw = mw;
    *bmaxw_int = mw_int;
}

/* The values that are not empty: a tuple, or None (fixed size 0), or joined (fixed size > 0). */
static PyObject *mini_values(PyObject *const *values, Py_ssize_t n, int fixed) {
    if (fixed == 0) Py_RETURN_NONE;
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (values[i] != Py_None && PyBytes_GET_SIZE(values[i]) > 0) k++;
    PyObject *t = PyTuple_New(k);
    if (!t) return NULL;
    k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (values[i] != Py_None && PyBytes_GET_SIZE(values[i]) > 0) {
            Py_INCREF(values[i]);
            PyTuple_SET_ITEM(t, k++, values[i]);
        }
    }
    if (fixed < 0) return t;
    PyObject *empty = PyBytes_FromStringAndSize(NULL, 0);
    if (!empty) { Py_DECREF(t); return NULL; }
    PyObject *joined = PyObject_CallMethod(empty, "join", "(O)", t);
    Py_DECREF(empty);
    Py_DECREF(t);
    return joined;
}

static PyObject *mini_weights(const float *wa, Py_ssize_t n) {
    int all_equal = 1;
    for (Py_ssize_t i = 1; i < n; i++)
        if (wa[i] != wa[0]) { all_equal = 0; break; }
    if (all_equal && wa[0] == 1.0f) Py_RETURN_NONE;
    if (all_equal) return PyFloat_FromDouble((double)wa[0]);
    PyObject *t = PyTuple_New(n);
    if (!t) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *f = PyFloat_FromDouble((double)wa[i]);
        if (!f) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, i, f);
    }
    return t;
}

static PyObject *long_tuple(const long *v, Py_ssize_t n, int deltas) {
    PyObject *t = PyTuple_New(n);
    if (!t) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = PyLong_FromLong(deltas && i ? v[i] - v[i - 1] : v[i]);
        if (!x) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, i, x);
    }
    return t;
}

/* Appends one block (length, pickled info, pickled or compressed data) to out. */
static int write_block(PyObject *out, Stats *s, const long *ids, const double *weights, const float *wa,
                       PyObject *const *values, const unsigned char *lb, Py_ssize_t n, int fixed,
                       int compression, Py_ssize_t min_compress, int last) {
    int bminlen, bmaxlen, bmaxw_int;
    double bmaxw;
    block_stats(s, weights, wa, lb, n, &bminlen, &bmaxlen, &bmaxw, &bmaxw_int);
    PyObject *data = NULL, *info = NULL, *pdata = NULL, *pinfo = NULL;
    int ok = -1, comp = 0;
    PyObject *d = long_tuple(ids, n, 1);
    PyObject *w = d ? mini_weights(wa, n) : NULL;
    PyObject *v = w ? mini_values(values, n, fixed) : NULL;
    if (!v) goto done;
    data = PyTuple_Pack(3, d, w, v);
    if (!data || !(pdata = dumps3(data))) goto done;
    if (compression && PyBytes_GET_SIZE(pdata) >= min_compress) {
        PyObject *z = deflated(pdata, compression);
        if (!z) goto done;
        Py_SETREF(pdata, z);
        comp = compression;
    }
    info = Py_BuildValue("(nlNiii)", n, ids[n - 1],
                         bmaxw_int ? PyLong_FromLong(0) : PyFloat_FromDouble(bmaxw), comp, bminlen, bmaxlen);
    if (!info || !(pinfo = dumps3(info))) goto done;
    {
        Py_ssize_t length = PyBytes_GET_SIZE(pinfo) + PyBytes_GET_SIZE(pdata);
        unsigned char head[4];
        put_u32(head, (uint32_t)(int32_t)(last ? -length : length));
        Py_ssize_t at = PyByteArray_GET_SIZE(out);
        if (PyByteArray_Resize(out, at + 4 + length) < 0) goto done;
        char *p = PyByteArray_AS_STRING(out) + at;
        memcpy(p, head, 4);
        memcpy(p + 4, PyBytes_AS_STRING(pinfo), PyBytes_GET_SIZE(pinfo));
        memcpy(p + 4 + PyBytes_GET_SIZE(pinfo), PyBytes_AS_STRING(pdata), PyBytes_GET_SIZE(pdata));
    }
    ok = 0;
done:
    Py_XDECREF(d); Py_XDECREF(w); Py_XDECREF(v);
    Py_XDECREF(data); Py_XDECREF(pdata); Py_XDECREF(info); Py_XDECREF(pinfo);
    return ok;
}

static PyObject *inlined(const long *ids, const double *weights, const float *wa, PyObject *const *values,
                         const unsigned char *lb) {
    Stats s = {0.0, 0, 0, 0, 0.0, 1};
    int bminlen, bmaxlen, bmaxw_int;
    double bmaxw;
    block_stats(&s, weights, wa, lb, 1, &bminlen, &bmaxlen, &bmaxw, &bmaxw_int);
    PyObject *result = NULL, *t = NULL, *pickled = NULL, *head = NULL;
    PyObject *i = long_tuple(ids, 1, 0);
    PyObject *w = i ? Py_BuildValue("(d)", (double)wa[0]) : NULL;
    PyObject *v = NULL;
    if (!w) goto done;
    if (values[0] != Py_None && PyBytes_GET_SIZE(values[0]) > 0)
        v = PyTuple_Pack(1, values[0]);
    else
        v = PyTuple_Pack(1, Py_None);
    if (!v || !(t = PyTuple_Pack(3, i, w, v)) || !(pickled = dumps3(t))) goto done;
    head = pack_terminfo(&s, 1, 1, ids[0], ids[0], 0, 0, 0);
    if (head) result = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(head) + PyBytes_GET_SIZE(pickled));
    if (result) {
        memcpy(PyBytes_AS_STRING(result), PyBytes_AS_STRING(head), PyBytes_GET_SIZE(head));
        memcpy(PyBytes_AS_STRING(result) + PyBytes_GET_SIZE(head), PyBytes_AS_STRING(pickled),
               PyBytes_GET_SIZE(pickled));
    }
done:
    Py_XDECREF(i); Py_XDECREF(w); Py_XDECREF(v); Py_XDECREF(t); Py_XDECREF(pickled); Py_XDECREF(head);
    return result;
}

typedef struct {
    int blocklimit, compression, fixed;
    Py_ssize_t min_compress;
} Params;

/* One term's postings: appends its blocks to out (nothing for a single posting, which goes into
 * the term info) and returns its term info's bytes; start is where out's end lies in the file. */
static PyObject *term_info(PyObject *out, long long start, const long *ids, const double *weights,
                           const float *wa, PyObject *const *values, const unsigned char *lb, Py_ssize_t n,
                           const Params *pr) {
    if (n == 1) return inlined(ids, weights, wa, values, lb);
    Py_ssize_t before = PyByteArray_GET_SIZE(out);
    if (PyByteArray_Resize(out, before + 4) < 0) return NULL;
    memcpy(PyByteArray_AS_STRING(out) + before, MAGIC, 4);
    Stats s = {0.0, 0, 0, 0, 0.0, 1};
    for (Py_ssize_t b = 0; b < n; b += pr->blocklimit) {
        Py_ssize_t m = n - b < pr->blocklimit ? n - b : pr->blocklimit;
        if (write_block(out, &s, ids + b, weights + b, wa + b, values + b, lb + b, m, pr->fixed,
                        pr->compression, pr->min_compress, b + m >= n) < 0)
            return NULL;
    }
    return pack_terminfo(&s, 0, n, ids[0], ids[n - 1], 1, (int64_t)start,
                         (int32_t)(PyByteArray_GET_SIZE(out) - before));
}

static int check_params(const Params *pr) {
    if (pr->blocklimit < 1) {
        PyErr_SetString(PyExc_ValueError, "the block limit must be at least 1");
        return -1;
    }
    return 0;
}

static PyObject *write_term(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *postings, *table;
    Params pr;
    long long start;
    if (!PyArg_ParseTuple(args, "O!O!iiinL", &PyList_Type, &postings, &PyBytes_Type, &table, &pr.blocklimit,
                          &pr.compression, &pr.fixed, &pr.min_compress, &start))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(postings);
    if (check_params(&pr) < 0) return NULL;
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "write_term needs postings");
        return NULL;
    }
    long *ids = PyMem_Malloc(n * sizeof(long));
    double *weights = PyMem_Malloc(n * sizeof(double));
    float *wa = PyMem_Malloc(n * sizeof(float));
    PyObject **values = PyMem_Malloc(n * sizeof(PyObject *));
    unsigned char *lb = PyMem_Malloc(n);
    PyObject *result = NULL, *out = NULL, *info = NULL;
    if (!ids || !weights || !wa || !values || !lb) { PyErr_NoMemory(); goto done; }
    const unsigned char *tb = (const unsigned char *)PyBytes_AS_STRING(table);
    Py_ssize_t tn = PyBytes_GET_SIZE(table);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *p = PyList_GET_ITEM(postings, k);
        if (!PyTuple_Check(p) || PyTuple_GET_SIZE(p) != 5) {
            PyErr_SetString(PyExc_TypeError, "a posting is a tuple of five");
            goto done;
        }
        ids[k] = PyLong_AsLong(PyTuple_GET_ITEM(p, 2));
        weights[k] = PyFloat_AsDouble(PyTuple_GET_ITEM(p, 3));
        if (PyErr_Occurred()) goto done;
        if (ids[k] < 0 || (unsigned long)ids[k] > UINT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "a document number outside 0..2**32-1");
            goto done;
        }
        wa[k] = (float)weights[k];
        values[k] = PyTuple_GET_ITEM(p, 4);
        if (values[k] != Py_None && !PyBytes_Check(values[k])) {
            PyErr_SetString(PyExc_TypeError, "a posting's value is bytes or None");
            goto done;
        }
        lb[k] = ids[k] < tn ? tb[ids[k]] : 0;
    }
    out = PyByteArray_FromStringAndSize(NULL, 0);
    if (!out || !(info = term_info(out, start, ids, weights, wa, values, lb, n, &pr))) goto done;
    if (PyByteArray_GET_SIZE(out) == 0) {
        result = PyTuple_Pack(2, info, Py_None);
    } else {
        PyObject *chunk = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(out), PyByteArray_GET_SIZE(out));
        if (chunk) {
            result = PyTuple_Pack(2, info, chunk);
            Py_DECREF(chunk);
        }
    }
done:
    PyMem_Free(ids); PyMem_Free(weights); PyMem_Free(wa); PyMem_Free(values); PyMem_Free(lb);
    Py_XDECREF(out); Py_XDECREF(info);
    return result;
}

/* ---- The posting pool: whoosh's PostingPool (postings gathered, sorted by field, term and
 * document, in runs on disk beyond a memory limit) kept in C arrays, its runs merged straight into
 * the W3 term infos and blocks above. ---- */

typedef struct {
    char *path;
    FILE *f;
    int fid;             /* the field of the group at hand; -1 when the run is done */
    unsigned char *term; /* its term */
    uint32_t tlen, tcap;
    uint32_t n;          /* its number of postings (still to be read) */
} Run;

typedef struct {
    PyObject_HEAD
    PyObject *field_names; /* list: field number -> str */
    PyObject *field_ids;   /* dict: str -> field number */
    PyObject *terms;       /* list by field number of dicts: term bytes -> term number */
    PyObject **term_bytes; /* term number -> bytes (owned) */
    uint16_t *term_field;
    Py_ssize_t nterms, term_cap;
    uint32_t *p_term, *p_doc, *p_vlen; /* the postings in memory, in the order they came */
    double *p_weight;
    Py_ssize_t np, p_cap;
    char *arena;                        /* their values, in the same order */
    size_t arena_len, arena_cap;
    size_t memory, limit;
    PyObject *folder;
    Run *runs;
    Py_ssize_t nruns, runs_cap;
    long counter;
    int merging;
    int *rank;                          /* field number -> place in name order */
    Py_ssize_t nrank;
    /* one merged term's postings */
    long *g_ids;
    double *g_w;
    float *g_wa;
    uint32_t *g_vlen;
    PyObject **g_vals;
    unsigned char *g_lb;
    Py_ssize_t g_cap;
    char *g_vbuf;
    size_t g_vcap;
    char *g_rbuf; /* a run's records of one term */
    size_t g_rcap;
    PyObject *str_terms; /* list by field number of dicts: term str -> term number */
    char *scratch;       /* one encoded value */
    size_t scratch_cap;
} Pool;

#define RECORD 16 /* a posting in a run: document (4 bytes), weight (8), value's length (4) */

static int grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t item) {
    if (need <= *cap) return 0;
    Py_ssize_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = PyMem_Realloc(*p, (size_t)c * item);
    if (!q) { PyErr_NoMemory(); return -1; }
    *p = q;
    *cap = c;
    return 0;
}

static int grow_bytes(char **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 65536;
    while (c < need) c *= 2;
    char *q = PyMem_Realloc(*p, c);
    if (!q) { PyErr_NoMemory(); return -1; }
    *p = q;
    *cap = c;
    return 0;
}

static int field_number(Pool *self, PyObject *name) {
    PyObject *num = PyDict_GetItemWithError(self->field_ids, name);
    if (num) return (int)PyLong_AsLong(num);
    if (PyErr_Occurred()) return -1;
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "a field name is a str");
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(self->field_names);
    if (n >= 65535) {
        PyErr_SetString(PyExc_ValueError, "too many fields");
        return -1;
    }
    PyObject *d = PyDict_New();
    num = PyLong_FromSsize_t(n);
    PyObject *sd = PyDict_New();
    int bad = !d || !sd || !num || PyList_Append(self->field_names, name) < 0 || PyList_Append(self->terms, d) < 0
              || PyList_Append(self->str_terms, sd) < 0 || PyDict_SetItem(self->field_ids, name, num) < 0;
    Py_XDECREF(d);
    Py_XDECREF(sd);
    Py_XDECREF(num);
    return bad ? -1 : (int)n;
}

static void clear_terms(Pool *self) {
    for (Py_ssize_t t = 0; t < self->nterms; t++) Py_DECREF(self->term_bytes[t]);
    self->nterms = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->terms); i++) PyDict_Clear(PyList_GET_ITEM(self->terms, i));
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->str_terms); i++)
        PyDict_Clear(PyList_GET_ITEM(self->str_terms, i));
}

static int compute_ranks(Pool *self) {
    Py_ssize_t n = PyList_GET_SIZE(self->field_names);
    int *order = PyMem_Malloc((n ? n : 1) * sizeof(int));
    int *rank = PyMem_Realloc(self->rank, (n ? n : 1) * sizeof(int));
    if (!order || !rank) { PyMem_Free(order); if (rank) self->rank = rank; PyErr_NoMemory(); return -1; }
    self->rank = rank;
    for (Py_ssize_t i = 0; i < n; i++) order[i] = (int)i;
    for (Py_ssize_t i = 1; i < n; i++) { /* insertion sort by name: few fields */
        int x = order[i];
        Py_ssize_t j = i;
        while (j > 0) {
            int c = PyUnicode_Compare(PyList_GET_ITEM(self->field_names, order[j - 1]),
                                      PyList_GET_ITEM(self->field_names, x));
            if (c == -1 && PyErr_Occurred()) { PyMem_Free(order); return -1; }
            if (c <= 0) break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    for (Py_ssize_t i = 0; i < n; i++) rank[order[i]] = (int)i;
    self->nrank = n;
    PyMem_Free(order);
    return 0;
}

static int key_compare(const int *rank, int fa, const unsigned char *a, size_t la, int fb,
                       const unsigned char *b, size_t lb) {
    if (rank[fa] != rank[fb]) return rank[fa] < rank[fb] ? -1 : 1;
    size_t m = la < lb ? la : lb;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return la < lb ? -1 : la > lb;
}

static Pool *sorting_pool; /* qsort has no context argument; the GIL makes this safe */

static int term_order(const void *x, const void *y) {
    Py_ssize_t a = *(const Py_ssize_t *)x, b = *(const Py_ssize_t *)y;
    Pool *p = sorting_pool;
    PyObject *ta = p->term_bytes[a], *tb = p->term_bytes[b];
    return key_compare(p->rank, p->term_field[a], (const unsigned char *)PyBytes_AS_STRING(ta),
                       (size_t)PyBytes_GET_SIZE(ta), p->term_field[b],
                       (const unsigned char *)PyBytes_AS_STRING(tb), (size_t)PyBytes_GET_SIZE(tb));
}

static int fwrite_all(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1; }

/* Writes the postings in memory to a new run, sorted by field, term and arrival. */
static int spill(Pool *self) {
    if (self->np == 0) return 0;
    if (compute_ranks(self) < 0) return -1;
    Py_ssize_t T = self->nterms, N = self->np;
    Py_ssize_t *sorted = PyMem_Malloc(T * sizeof(Py_ssize_t));
    Py_ssize_t *first = PyMem_Malloc(T * sizeof(Py_ssize_t));
    Py_ssize_t *fill = PyMem_Malloc(T * sizeof(Py_ssize_t));
    uint32_t *order = PyMem_Malloc(N * sizeof(uint32_t));
    size_t *voff = PyMem_Malloc(N * sizeof(size_t));
    FILE *f = NULL;
    PyObject *path = NULL;
    int ok = -1;
    if (!sorted || !first || !fill || !order || !voff) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t t = 0; t < T; t++) { sorted[t] = t; fill[t] = 0; }
    sorting_pool = self;
    qsort(sorted, (size_t)T, sizeof(Py_ssize_t), term_order);
    for (Py_ssize_t i = 0; i < N; i++) fill[self->p_term[i]]++;
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < T; i++) {
        Py_ssize_t t = sorted[i];
        first[t] = at;
        at += fill[t];
        fill[t] = first[t];
    }
    size_t off = 0;
    for (Py_ssize_t i = 0; i < N; i++) {
        order[fill[self->p_term[i]]++] = (uint32_t)i;
        voff[i] = off;
        off += self->p_vlen[i];
    }
    path = PyUnicode_FromFormat("%U/pool-%ld-%ld.run", self->folder, (long)getpid(), self->counter++);
    if (!path) goto done;
    const char *cpath = PyUnicode_AsUTF8(path);
    if (!cpath) goto done;
    f = fopen(cpath, "wb");
    if (!f) { PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path); goto done; }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    for (Py_ssize_t i = 0; i < T; i++) {
        Py_ssize_t t = sorted[i];
        uint16_t fid = self->term_field[t];
        uint32_t tlen = (uint32_t)PyBytes_GET_SIZE(self->term_bytes[t]);
        uint32_t n = (uint32_t)(i + 1 < T ? first[sorted[i + 1]] - first[t] : N - first[t]);
        size_t vbytes = 0;
        for (uint32_t k = 0; k < n; k++) vbytes += self->p_vlen[order[first[t] + k]];
        size_t need = 10 + tlen + (size_t)n * RECORD + vbytes;
        if (grow_bytes(&self->g_vbuf, &self->g_vcap, need) < 0) goto done;
        char *b = self->g_vbuf;
        memcpy(b, &fid, 2);
        memcpy(b + 2, &tlen, 4);
        memcpy(b + 6, PyBytes_AS_STRING(self->term_bytes[t]), tlen);
        memcpy(b + 6 + tlen, &n, 4);
        char *rec = b + 10 + tlen, *val = rec + (size_t)n * RECORD;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t j = order[first[t] + k];
            memcpy(rec, &self->p_doc[j], 4);
            memcpy(rec + 4, &self->p_weight[j], 8);
            memcpy(rec + 12, &self->p_vlen[j], 4);
            rec += RECORD;
            memcpy(val, self->arena + voff[j], self->p_vlen[j]);
            val += self->p_vlen[j];
        }
        if (fwrite_all(f, b, need)) goto ioerror;
    }
    if (fclose(f) != 0) { f = NULL; goto ioerror; }
    f = NULL;
    if (grow((void **)&self->runs, &self->runs_cap, self->nruns + 1, sizeof(Run)) < 0) goto done;
    {
        Run *r = &self->runs[self->nruns++];
        memset(r, 0, sizeof *r);
        r->fid = -1;
        r->path = PyMem_Malloc(strlen(cpath) + 1);
        if (!r->path) { self->nruns--; PyErr_NoMemory(); goto done; }
        strcpy(r->path, cpath);
    }
    clear_terms(self);
    self->np = 0;
    self->arena_len = 0;
    self->memory = 0;
    ok = 0;
    goto done;
ioerror:
    PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
done:
    if (f) fclose(f);
    Py_XDECREF(path);
    PyMem_Free(sorted); PyMem_Free(first); PyMem_Free(fill); PyMem_Free(order); PyMem_Free(voff);
    return ok;
}

/* d[key] as a term number; -2 when d has no key, -1 on an error. */
static Py_ssize_t number_in(PyObject *d, PyObject *key) {
    PyObject *num = PyDict_GetItemWithError(d, key);
    if (num) return PyLong_AsSsize_t(num);
    return PyErr_Occurred() ? -1 : -2;
}

/* d[key] = t */
static int set_number(PyObject *d, PyObject *key, Py_ssize_t t) {
    PyObject *num = PyLong_FromSsize_t(t);
    int bad = !num || PyDict_SetItem(d, key, num) < 0;
    Py_XDECREF(num);
    return bad ? -1 : 0;
}

/* The number of a field's term (bytes), a new one if the pool has none in memory. */
static Py_ssize_t term_number(Pool *self, int fid, PyObject *term) {
    PyObject *d = PyList_GET_ITEM(self->terms, fid);
    Py_ssize_t known = number_in(d, term);
    if (known != -2) return known;
    Py_ssize_t t = self->nterms;
    Py_ssize_t cap = self->term_cap;
    if (grow((void **)&self->term_bytes, &cap, t + 1, sizeof(PyObject *)) < 0) return -1;
    cap = self->term_cap;
    if (grow((void **)&self->term_field, &cap, t + 1, sizeof(uint16_t)) < 0) return -1;
    self->term_cap = cap;
    if (set_number(d, term, t) < 0) return -1;
    Py_INCREF(term);
    self->term_bytes[t] = term;
    self->term_field[t] = (uint16_t)fid;
    self->nterms++;
    self->memory += 120 + (size_t)PyBytes_GET_SIZE(term);
    return t;
}

/* The same for a term given as str (its UTF-8 bytes), through a dict of the str terms. */
static Py_ssize_t str_term_number(Pool *self, int fid, PyObject *term) {
    PyObject *d = PyList_GET_ITEM(self->str_terms, fid);
    Py_ssize_t known = number_in(d, term);
    if (known != -2) return known;
    if (!PyUnicode_Check(term)) {
        PyErr_SetString(PyExc_TypeError, "a term is a str");
        return -1;
    }
    PyObject *b = PyUnicode_AsUTF8String(term);
    if (!b) return -1;
    Py_ssize_t t = term_number(self, fid, b);
    Py_DECREF(b);
    if (t < 0 || set_number(d, term, t) < 0) return -1;
    self->memory += 100;
    return t;
}

/* Appends a posting of term number t; writes a run when the memory limit is passed (after which
 * the term numbers are new ones). */
static int append_posting(Pool *self, Py_ssize_t t, long doc, double weight, const char *value, uint32_t vlen) {
    Py_ssize_t i = self->np;
    if (i >= UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "too many postings in memory");
        return -1;
    }
    if (i + 1 > self->p_cap) {
        Py_ssize_t c1 = self->p_cap, c2 = self->p_cap, c3 = self->p_cap, c4 = self->p_cap;
        if (grow((void **)&self->p_term, &c1, i + 1, 4) < 0 || grow((void **)&self->p_doc, &c2, i + 1, 4) < 0 ||
            grow((void **)&self->p_vlen, &c3, i + 1, 4) < 0 || grow((void **)&self->p_weight, &c4, i + 1, 8) < 0)
            return -1;
        self->p_cap = c1;
    }
    if (vlen) {
        if (grow_bytes(&self->arena, &self->arena_cap, self->arena_len + vlen) < 0) return -1;
        memcpy(self->arena + self->arena_len, value, vlen);
        self->arena_len += vlen;
    }
    self->p_term[i] = (uint32_t)t;
    self->p_doc[i] = (uint32_t)doc;
    self->p_weight[i] = weight;
    self->p_vlen[i] = vlen;
    self->np++;
    self->memory += 20 + vlen;
    if (self->memory > self->limit) return spill(self);
    return 0;
}

static int check_doc(Pool *self, long doc) {
    if (self->merging) {
        PyErr_SetString(PyExc_RuntimeError, "the pool is being written: no more postings");
        return -1;
    }
    if (doc < 0 || (unsigned long)doc > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "a document number outside 0..2**32-1");
        return -1;
    }
    return 0;
}

static int pool_add(Pool *self, PyObject *name, PyObject *term, long doc, double weight, PyObject *value) {
    if (check_doc(self, doc) < 0) return -1;
    if (!PyBytes_Check(term)) {
        PyErr_SetString(PyExc_TypeError, "a term is bytes");
        return -1;
    }
    if (value != Py_None && !PyBytes_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "a posting's value is bytes or None");
        return -1;
    }
    int fid = field_number(self, name);
    if (fid < 0) return -1;
    Py_ssize_t t = term_number(self, fid, term);
    if (t < 0) return -1;
    if (value == Py_None) return append_posting(self, t, doc, weight, NULL, 0);
    return append_posting(self, t, doc, weight, PyBytes_AS_STRING(value), (uint32_t)PyBytes_GET_SIZE(value));
}

/* pickle.dumps(list_of_ints, 2) for non-negative ints below 2**31, byte for byte (CPython's
 * _pickle: the list memoized, items in batches of 1000, one item appended on its own). */
static char *put_int(char *b, long v) {
    if (v <= 0xff) { *b++ = 'K'; *b++ = (char)v; }
    else if (v <= 0xffff) { *b++ = 'M'; *b++ = (char)(v & 0xff); *b++ = (char)(v >> 8); }
    else { *b++ = 'J'; for (int k = 0; k < 4; k++) *b++ = (char)((v >> (8 * k)) & 0xff); }
    return b;
}

/* whoosh's Positions.encode: pack_uint(len) + pickle of the position deltas; *out grows. */
static Py_ssize_t encode_positions(Pool *self, PyObject *list) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    size_t need = 4 + 6 + (size_t)n * 5 + ((size_t)n / 1000 + 1) * 2 + 2;
    if (grow_bytes(&self->scratch, &self->scratch_cap, need) < 0) return -1;
    char *b = self->scratch;
    put_u32((unsigned char *)b, (uint32_t)n);
    b += 4;
    memcpy(b, "\x80\x02]q\x00", 5);
    b += 5;
    long last = 0;
    if (n == 1) {
        long p = PyLong_AsLong(PyList_GET_ITEM(list, 0));
        if (p == -1 && PyErr_Occurred()) return -1;
        if (p < 0 || p > 0x7fffffffL) goto range;
        b = put_int(b, p);
        *b++ = 'a';
    } else if (n > 1) {
        for (Py_ssize_t i = 0; i < n; i++) {
            if (i % 1000 == 0) *b++ = '(';
            long p = PyLong_AsLong(PyList_GET_ITEM(list, i));
            if (p == -1 && PyErr_Occurred()) return -1;
            if (p < last || p > 0x7fffffffL) goto range;
            b = put_int(b, p - last);
            last = p;
            if (i % 1000 == 999 || i == n - 1) *b++ = 'e';
        }
    }
    *b++ = '.';
    return b - self->scratch;
range:
    PyErr_SetString(PyExc_ValueError, "positions are increasing numbers from 0 to 2**31-1");
    return -1;
}

/* Pool.add_field(field, document, terms, boost, fieldboost) -> the field's length.
 * One document's postings in one field, as whoosh's add_document makes them from a Positions or
 * Frequency format's analysis: terms maps each term (str) to its positions (a list: the value is
 * Positions.encode of them) or to its frequency (an int: the value is pack_uint of it); the weight
 * is the frequency times boost times fieldboost. */
static PyObject *Pool_add_field(Pool *self, PyObject *args) {
    PyObject *name, *terms;
    long doc;
    double boost, fieldboost;
    if (!PyArg_ParseTuple(args, "UlO!dd", &name, &doc, &PyDict_Type, &terms, &boost, &fieldboost)) return NULL;
    if (check_doc(self, doc) < 0) return NULL;
    int fid = field_number(self, name);
    if (fid < 0) return NULL;
    Py_ssize_t pos = 0, length = 0;
    PyObject *term, *value;
    while (PyDict_Next(terms, &pos, &term, &value)) {
        Py_ssize_t t = str_term_number(self, fid, term);
        if (t < 0) return NULL;
        long n;
        Py_ssize_t vlen;
        if (PyList_Check(value)) {
            n = (long)PyList_GET_SIZE(value);
            if ((vlen = encode_positions(self, value)) < 0) return NULL;
        } else {
            n = PyLong_AsLong(value);
            if (n == -1 && PyErr_Occurred()) return NULL;
            if (n < 0 || n > 0x7fffffffL) {
                PyErr_SetString(PyExc_ValueError, "a frequency from 0 to 2**31-1");
                return NULL;
            }
            if (grow_bytes(&self->scratch, &self->scratch_cap, 4) < 0) return NULL;
            put_u32((unsigned char *)self->scratch, (uint32_t)n);
            vlen = 4;
        }
        length += n;
        if (append_posting(self, t, doc, (double)n * boost * fieldboost, self->scratch, (uint32_t)vlen) < 0)
            return NULL;
    }
    return PyLong_FromSsize_t(length);
}

/* Pool.add((field, term, document, weight, value)): one posting, as whoosh's PostingPool.add. */
static PyObject *Pool_add(Pool *self, PyObject *item) {
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 5) {
        PyErr_SetString(PyExc_TypeError, "a posting is a tuple of five");
        return NULL;
    }
    long doc = PyLong_AsLong(PyTuple_GET_ITEM(item, 2));
    double weight = PyFloat_AsDouble(PyTuple_GET_ITEM(item, 3));
    if (PyErr_Occurred()) return NULL;
    if (pool_add(self, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1), doc, weight,
                 PyTuple_GET_ITEM(item, 4)) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static int read_all(FILE *f, void *p, size_t n) { return n == 0 || fread(p, 1, n, f) == n ? 0 : -1; }

static int run_error(Run *r) {
    if (r->f && ferror(r->f)) PyErr_SetFromErrnoWithFilename(PyExc_OSError, r->path);
    else PyErr_Format(PyExc_OSError, "%s: a run of the posting pool ends early", r->path);
    return -1;
}

/* Reads the run's next group header (fid -1 at its end). */
static int read_header(Run *r) {
    uint16_t fid;
    if (fread(&fid, 1, 2, r->f) != 2) {
        if (ferror(r->f)) return run_error(r);
        fclose(r->f);
        r->f = NULL;
        r->fid = -1;
        return 0;
    }
    uint32_t tlen;
    if (read_all(r->f, &tlen, 4)) return run_error(r);
    if (tlen > r->tcap) {
        unsigned char *q = PyMem_Realloc(r->term, tlen);
        if (!q) { PyErr_NoMemory(); return -1; }
        r->term = q;
        r->tcap = tlen;
    }
    if (read_all(r->f, r->term, tlen) || read_all(r->f, &r->n, 4)) return run_error(r);
    r->tlen = tlen;
    r->fid = fid;
    return 0;
}

static int start_merge(Pool *self) {
    if (self->merging) return 0;
    if (spill(self) < 0 || compute_ranks(self) < 0) return -1;
    self->merging = 1;
    for (Py_ssize_t i = 0; i < self->nruns; i++) {
        Run *r = &self->runs[i];
        r->f = fopen(r->path, "rb");
        if (!r->f) { PyErr_SetFromErrnoWithFilename(PyExc_OSError, r->path); return -1; }
        setvbuf(r->f, NULL, _IOFBF, 1 << 18);
        if (read_header(r) < 0) return -1;
    }
    return 0;
}

static int run_compare(const Pool *self, const Run *a, const Run *b) {
    return key_compare(self->rank, a->fid, a->term, a->tlen, b->fid, b->term, b->tlen);
}

static Run *smallest(Pool *self) {
    Run *m = NULL;
    for (Py_ssize_t i = 0; i < self->nruns; i++) {
        Run *r = &self->runs[i];
        if (r->fid >= 0 && (!m || run_compare(self, r, m) < 0)) m = r;
    }
    return m;
}

static void release_group(Pool *self, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++) Py_XDECREF(self->g_vals[k]);
}

static int doc_order(const void *x, const void *y) {
    const uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The postings of the smallest term of all runs, in document order, into the g_ arrays; its
 * field and term into *fid and *term. Returns their number, 0 at the end, -1 on error. */
static Py_ssize_t next_group(Pool *self, int *fid, PyObject **term) {
    if (start_merge(self) < 0) return -1;
    Run *m = smallest(self);
    if (!m) return 0;
    *fid = m->fid;
    *term = PyBytes_FromStringAndSize((const char *)m->term, m->tlen);
    if (!*term) return -1;
    Run key = *m;
    key.term = PyMem_Malloc(m->tlen ? m->tlen : 1);
    if (!key.term) { Py_CLEAR(*term); PyErr_NoMemory(); return -1; }
    memcpy(key.term, m->term, m->tlen);
    Py_ssize_t n = 0;
    size_t vlen_total = 0;
    int sorted = 1;
    for (Py_ssize_t i = 0; i < self->nruns; i++) {
        Run *r = &self->runs[i];
        if (r->fid < 0 || run_compare(self, r, &key) != 0) continue;
        Py_ssize_t need = n + r->n;
        if (need > self->g_cap) {
            Py_ssize_t c = self->g_cap, c2 = self->g_cap, c3 = self->g_cap, c4 = self->g_cap, c5 = self->g_cap,
                       c6 = self->g_cap;
            if (grow((void **)&self->g_ids, &c, need, sizeof(long)) < 0 ||
                grow((void **)&self->g_w, &c2, need, sizeof(double)) < 0 ||
                grow((void **)&self->g_wa, &c3, need, sizeof(float)) < 0 ||
                grow((void **)&self->g_vlen, &c4, need, sizeof(uint32_t)) < 0 ||
                grow((void **)&self->g_vals, &c5, need, sizeof(PyObject *)) < 0 ||
                grow((void **)&self->g_lb, &c6, need, 1) < 0)
                goto fail;
            self->g_cap = c;
        }
        size_t vstart = vlen_total;
        if (grow_bytes(&self->g_rbuf, &self->g_rcap, (size_t)r->n * RECORD) < 0) goto fail;
        if (read_all(r->f, self->g_rbuf, (size_t)r->n * RECORD)) { run_error(r); goto fail; }
        const char *rec = self->g_rbuf;
        for (uint32_t k = 0; k < r->n; k++, rec += RECORD) {
            uint32_t doc, vlen;
            double w;
            memcpy(&doc, rec, 4);
            memcpy(&w, rec + 4, 8);
            memcpy(&vlen, rec + 12, 4);
            if (n + k > 0 && (long)doc < self->g_ids[n + k - 1]) sorted = 0;
            self->g_ids[n + k] = doc;
            self->g_w[n + k] = w;
            self->g_wa[n + k] = (float)w;
            self->g_vlen[n + k] = vlen;
            vlen_total += vlen;
        }
        if (grow_bytes(&self->g_vbuf, &self->g_vcap, vlen_total) < 0) goto fail;
        if (read_all(r->f, self->g_vbuf + vstart, vlen_total - vstart)) { run_error(r); goto fail; }
        n += r->n;
        if (read_header(r) < 0) goto fail;
    }
    PyMem_Free(key.term);
    size_t off = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (self->g_vlen[k]) {
            self->g_vals[k] = PyBytes_FromStringAndSize(self->g_vbuf + off, self->g_vlen[k]);
            if (!self->g_vals[k]) { release_group(self, k); Py_CLEAR(*term); return -1; }
            off += self->g_vlen[k];
        } else {
            Py_INCREF(Py_None);
            self->g_vals[k] = Py_None;
        }
    }
    if (!sorted) { /* a stable sort by document (postings came out of document order) */
        uint64_t *keys = PyMem_Malloc(n * sizeof(uint64_t));
        long *ids = PyMem_Malloc(n * sizeof(long));
        double *w = PyMem_Malloc(n * sizeof(double));
        PyObject **v = PyMem_Malloc(n * sizeof(PyObject *));
        if (!keys || !ids || !w || !v) {
            PyMem_Free(keys); PyMem_Free(ids); PyMem_Free(w); PyMem_Free(v);
            release_group(self, n); Py_CLEAR(*term); PyErr_NoMemory(); return -1;
        }
        for (Py_ssize_t k = 0; k < n; k++) keys[k] = ((uint64_t)self->g_ids[k] << 32) | (uint64_t)k;
        qsort(keys, (size_t)n, sizeof(uint64_t), doc_order);
        for (Py_ssize_t k = 0; k < n; k++) {
            Py_ssize_t j = (Py_ssize_t)(keys[k] & 0xFFFFFFFFu);
            ids[k] = self->g_ids[j]; w[k] = self->g_w[j]; v[k] = self->g_vals[j];
        }
        for (Py_ssize_t k = 0; k < n; k++) {
            self->g_ids[k] = ids[k]; self->g_w[k] = w[k]; self->g_wa[k] = (float)w[k]; self->g_vals[k] = v[k];
        }
        PyMem_Free(keys); PyMem_Free(ids); PyMem_Free(w); PyMem_Free(v);
    }
    return n;
fail:
    PyMem_Free(key.term);
    Py_CLEAR(*term);
    return -1;
}

/* Pool.next_group() -> (field, term, [(document, weight, value), ...]) or None at the end. */
static PyObject *Pool_next_group(Pool *self, PyObject *unused) {
    (void)unused;
    int fid;
    PyObject *term = NULL;
    Py_ssize_t n = next_group(self, &fid, &term);
    if (n <= 0) {
        if (n == 0) Py_RETURN_NONE;
        return NULL;
    }
    PyObject *list = PyList_New(n);
    for (Py_ssize_t k = 0; list && k < n; k++) {
        PyObject *t = Py_BuildValue("(ldO)", self->g_ids[k], self->g_w[k], self->g_vals[k]);
        if (!t) { Py_CLEAR(list); break; }
        PyList_SET_ITEM(list, k, t);
    }
    release_group(self, n);
    PyObject *result = list ? Py_BuildValue("(ONN)", PyList_GET_ITEM(self->field_names, fid), term, list) : NULL;
    if (!list) Py_DECREF(term);
    return result;
}

/* Pool.field() -> the field of the next term to write, or None when every term is written. */
static PyObject *Pool_field(Pool *self, PyObject *unused) {
    (void)unused;
    if (start_merge(self) < 0) return NULL;
    Run *m = smallest(self);
    if (!m) Py_RETURN_NONE;
    PyObject *name = PyList_GET_ITEM(self->field_names, m->fid);
    Py_INCREF(name);
    return name;
}

/* Pool.write_terms(table, blocklimit, compression, fixed, min_compress, start, most)
 *   -> ([term, ...], [term info, ...], bytes for the postings file)
 * The next terms (at most `most`, all of the field `field()` gives) written as write_term would. */
static PyObject *Pool_write_terms(Pool *self, PyObject *args) {
    PyObject *table;
    Params pr;
    long long start;
    Py_ssize_t most;
    if (!PyArg_ParseTuple(args, "O!iiinLn", &PyBytes_Type, &table, &pr.blocklimit, &pr.compression, &pr.fixed,
                          &pr.min_compress, &start, &most))
        return NULL;
    if (check_params(&pr) < 0 || start_merge(self) < 0) return NULL;
    const unsigned char *tb = (const unsigned char *)PyBytes_AS_STRING(table);
    Py_ssize_t tn = PyBytes_GET_SIZE(table);
    PyObject *terms = PyList_New(0), *infos = PyList_New(0), *out = PyByteArray_FromStringAndSize(NULL, 0);
    PyObject *result = NULL;
    if (!terms || !infos || !out) goto done;
    Run *m = smallest(self);
    int field = m ? m->fid : -1;
    for (Py_ssize_t count = 0; count < most; count++) {
        m = smallest(self);
        if (!m || m->fid != field) break;
        int fid;
        PyObject *term = NULL;
        Py_ssize_t n = next_group(self, &fid, &term);
        if (n < 0) goto done;
        for (Py_ssize_t k = 0; k < n; k++) self->g_lb[k] = self->g_ids[k] < tn ? tb[self->g_ids[k]] : 0;
        PyObject *info = term_info(out, start + PyByteArray_GET_SIZE(out), self->g_ids, self->g_w, self->g_wa,
                                   self->g_vals, self->g_lb, n, &pr);
        release_group(self, n);
        int bad = !info || PyList_Append(terms, term) < 0 || PyList_Append(infos, info) < 0;
        Py_DECREF(term);
        Py_XDECREF(info);
        if (bad) goto done;
    }
    {
        PyObject *chunk = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(out), PyByteArray_GET_SIZE(out));
        if (chunk) result = Py_BuildValue("(OON)", terms, infos, chunk);
    }
done:
    Py_XDECREF(terms); Py_XDECREF(infos); Py_XDECREF(out);
    return result;
}

static void close_runs(Pool *self) {
    for (Py_ssize_t i = 0; i < self->nruns; i++) {
        Run *r = &self->runs[i];
        if (r->f) fclose(r->f);
        r->f = NULL;
        r->fid = -1;
        if (r->path) remove(r->path);
        PyMem_Free(r->path);
        PyMem_Free(r->term);
        r->path = NULL;
        r->term = NULL;
    }
    self->nruns = 0;
}

/* Pool.cleanup(): remove the runs on disk. */
static PyObject *Pool_cleanup(Pool *self, PyObject *unused) {
    (void)unused;
    close_runs(self);
    Py_RETURN_NONE;
}

static PyObject *Pool_fieldnames(Pool *self, void *closure) {
    (void)closure;
    return PySet_New(self->field_names);
}

static PyObject *Pool_postings(Pool *self, void *closure) {
    (void)closure;
    return PyLong_FromSsize_t(self->np);
}

static PyObject *Pool_runs(Pool *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->counter);
}

static int Pool_init(Pool *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"folder", "limit", NULL};
    PyObject *folder;
    Py_ssize_t limit;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Un", kwlist, &folder, &limit)) return -1;
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "the memory limit must be at least 1 byte");
        return -1;
    }
    Py_INCREF(folder);
    Py_XSETREF(self->folder, folder);
    self->limit = (size_t)limit;
    if (!self->field_names && !(self->field_names = PyList_New(0))) return -1;
    if (!self->field_ids && !(self->field_ids = PyDict_New())) return -1;
    if (!self->terms && !(self->terms = PyList_New(0))) return -1;
    if (!self->str_terms && !(self->str_terms = PyList_New(0))) return -1;
    return 0;
}

static void Pool_dealloc(Pool *self) {
    close_runs(self);
    if (self->terms && self->str_terms) clear_terms(self);
    Py_XDECREF(self->field_names); Py_XDECREF(self->field_ids); Py_XDECREF(self->terms); Py_XDECREF(self->folder);
    Py_XDECREF(self->str_terms);
    PyMem_Free(self->scratch);
    PyMem_Free(self->term_bytes); PyMem_Free(self->term_field);
    PyMem_Free(self->p_term); PyMem_Free(self->p_doc); PyMem_Free(self->p_vlen); PyMem_Free(self->p_weight);
    PyMem_Free(self->arena); PyMem_Free(self->runs); PyMem_Free(self->rank);
    PyMem_Free(self->g_ids); PyMem_Free(self->g_w); PyMem_Free(self->g_wa); PyMem_Free(self->g_vlen);
    PyMem_Free(self->g_vals); PyMem_Free(self->g_lb); PyMem_Free(self->g_vbuf);
    PyMem_Free(self->g_rbuf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Pool_methods[] = {
    {"add", (PyCFunction)Pool_add, METH_O, "Add one posting: (field, term, document, weight, value)."},
    {"add_field", (PyCFunction)Pool_add_field, METH_VARARGS, "Add one document's postings in one field."},
    {"field", (PyCFunction)Pool_field, METH_NOARGS, "The field of the next term to write, or None."},
    {"write_terms", (PyCFunction)Pool_write_terms, METH_VARARGS, "Write the next terms of the field."},
    {"next_group", (PyCFunction)Pool_next_group, METH_NOARGS, "The next term's postings, or None."},
    {"cleanup", (PyCFunction)Pool_cleanup, METH_NOARGS, "Remove the runs on disk."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Pool_getset[] = {
    {"fieldnames", (getter)Pool_fieldnames, NULL, "The fields postings were added to.", NULL},
    {"postings_in_memory", (getter)Pool_postings, NULL, "Postings not yet in a run.", NULL},
    {"run_count", (getter)Pool_runs, NULL, "Runs written to disk (removed ones too).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject PoolType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "protokollsok._postings.Pool",
    .tp_basicsize = sizeof(Pool),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Postings sorted by field, term and document, in runs on disk beyond a memory limit.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Pool_init,
    .tp_dealloc = (destructor)Pool_dealloc,
    .tp_methods = Pool_methods,
    .tp_getset = Pool_getset,
};

/* ---- The terms file's hash tables: whoosh's HashWriter (md5 of each key, 256 buckets of linear
 * probing tables) for keys added in batches. ---- */

static uint32_t MD5_K[64];
static const int MD5_R[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                              5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                              4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_init_table(void) {
    for (int i = 0; i < 64; i++) MD5_K[i] = (uint32_t)floor(fabs(sin((double)(i + 1))) * 4294967296.0);
}

static void md5_block(uint32_t st[4], const unsigned char *p) {
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        uint32_t t = d;
        d = c;
        c = b;
        uint32_t x = a + f + MD5_K[i] + m[g];
        b = b + ((x << MD5_R[i]) | (x >> (32 - MD5_R[i])));
        a = t;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
}

/* whoosh's md5_hash: the md5 digest's last four bytes as a big-endian number. */
static uint32_t md5_tail(const unsigned char *data, size_t n) {
    uint32_t st[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    size_t full = n / 64 * 64;
    for (size_t i = 0; i < full; i += 64) md5_block(st, data + i);
    unsigned char last[128];
    size_t rest = n - full;
    memcpy(last, data + full, rest);
    last[rest] = 0x80;
    size_t total = rest + 1 + 8 <= 64 ? 64 : 128;
    memset(last + rest + 1, 0, total - rest - 1);
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++) last[total - 8 + i] = (unsigned char)(bits >> (8 * i));
    md5_block(st, last);
    if (total == 128) md5_block(st, last + 64);
    uint32_t d = st[3];
    return (d & 0xffu) << 24 | (d & 0xff00u) << 8 | (d >> 8 & 0xff00u) | d >> 24;
}

typedef struct {
    PyObject_HEAD
    uint32_t *hash;
    int64_t *pos;
    Py_ssize_t n, cap;
} TermIndex;

/* TermIndex.add(prefix, names, values, start, last) -> (records, positions)
 * The terms file's records (whoosh's "!ii" lengths, key, value) of the keys prefix + name, the
 * first at file position start; last is the key before them (each key must be greater). */
static PyObject *TermIndex_add(TermIndex *self, PyObject *args) {
    PyObject *prefix, *names, *values, *last;
    long long start;
    if (!PyArg_ParseTuple(args, "O!O!O!LO!", &PyBytes_Type, &prefix, &PyList_Type, &names, &PyList_Type, &values,
                          &start, &PyBytes_Type, &last))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(names);
    if (PyList_GET_SIZE(values) != n) {
        PyErr_SetString(PyExc_ValueError, "as many values as names");
        return NULL;
    }
    Py_ssize_t plen = PyBytes_GET_SIZE(prefix);
    size_t size = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = PyList_GET_ITEM(names, i), *v = PyList_GET_ITEM(values, i);
        if (!PyBytes_Check(k) || !PyBytes_Check(v)) {
            PyErr_SetString(PyExc_TypeError, "names and values are bytes");
            return NULL;
        }
        size += 8 + (size_t)plen + (size_t)PyBytes_GET_SIZE(k) + (size_t)PyBytes_GET_SIZE(v);
    }
    if (self->n + n > self->cap) {
        Py_ssize_t c1 = self->cap, c2 = self->cap;
        if (grow((void **)&self->hash, &c1, self->n + n, 4) < 0 || grow((void **)&self->pos, &c2, self->n + n, 8) < 0)
            return NULL;
        self->cap = c1;
    }
    PyObject *records = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    PyObject *positions = PyList_New(n);
    if (!records || !positions) { Py_XDECREF(records); Py_XDECREF(positions); return NULL; }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(records);
    const unsigned char *prev = (const unsigned char *)PyBytes_AS_STRING(last);
    size_t prevlen = (size_t)PyBytes_GET_SIZE(last);
    size_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = PyList_GET_ITEM(names, i), *v = PyList_GET_ITEM(values, i);
        size_t klen = (size_t)plen + (size_t)PyBytes_GET_SIZE(k), vlen = (size_t)PyBytes_GET_SIZE(v);
        unsigned char *rec = out + at;
        put_u32(rec, (uint32_t)klen);
        put_u32(rec + 4, (uint32_t)vlen);
        unsigned char *key = rec + 8;
        memcpy(key, PyBytes_AS_STRING(prefix), (size_t)plen);
        memcpy(key + plen, PyBytes_AS_STRING(k), (size_t)PyBytes_GET_SIZE(k));
        size_t m = klen < prevlen ? klen : prevlen;
        int c = m ? memcmp(key, prev, m) : 0;
        if (c < 0 || (c == 0 && klen <= prevlen)) {
            Py_DECREF(records);
            Py_DECREF(positions);
            PyErr_SetString(PyExc_ValueError, "Keys must increase");
            return NULL;
        }
        memcpy(key + klen, PyBytes_AS_STRING(v), vlen);
        PyObject *p = PyLong_FromLongLong(start + (long long)at);
        if (!p) { Py_DECREF(records); Py_DECREF(positions); return NULL; }
        PyList_SET_ITEM(positions, i, p);
        self->hash[self->n] = md5_tail(key, klen);
        self->pos[self->n] = start + (long long)at;
        self->n++;
        prev = key;
        prevlen = klen;
        at += 8 + klen + vlen;
    }
    return Py_BuildValue("(NN)", records, positions);
}

/* TermIndex.tables(start) -> (bytes, [(position, slots), ...] for the 256 buckets): whoosh's
 * _write_hashes for every key added, the first table at file position start. */
static PyObject *TermIndex_tables(TermIndex *self, PyObject *args) {
    long long start;
    if (!PyArg_ParseTuple(args, "L", &start)) return NULL;
    Py_ssize_t count[256] = {0}, first[256];
    for (Py_ssize_t i = 0; i < self->n; i++) count[self->hash[i] & 255]++;
    Py_ssize_t at = 0;
    for (int b = 0; b < 256; b++) { first[b] = at; at += count[b]; }
    Py_ssize_t *order = PyMem_Malloc((self->n ? self->n : 1) * sizeof(Py_ssize_t));
    Py_ssize_t fill[256];
    memcpy(fill, first, sizeof fill);
    if (!order) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < self->n; i++) order[fill[self->hash[i] & 255]++] = i;
    PyObject *data = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(2 * self->n * 12));
    PyObject *directory = PyList_New(256);
    Py_ssize_t *slots = PyMem_Malloc((self->n > 0 ? 2 * self->n : 1) * sizeof(Py_ssize_t));
    if (!data || !directory || !slots) {
        PyMem_Free(order); PyMem_Free(slots); Py_XDECREF(data); Py_XDECREF(directory);
        return PyErr_NoMemory();
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(data);
    long long pos = start;
    for (int b = 0; b < 256; b++) {
        Py_ssize_t numslots = 2 * count[b];
        PyObject *entry = Py_BuildValue("(Ln)", pos, numslots);
        if (!entry) {
            PyMem_Free(order); PyMem_Free(slots); Py_DECREF(data); Py_DECREF(directory);
            return NULL;
        }
        PyList_SET_ITEM(directory, b, entry);
        for (Py_ssize_t s = 0; s < numslots; s++) slots[s] = -1;
        for (Py_ssize_t k = 0; k < count[b]; k++) {
            Py_ssize_t i = order[first[b] + k];
            Py_ssize_t s = (Py_ssize_t)((self->hash[i] >> 8) % (uint32_t)numslots);
            while (slots[s] != -1) s = (s + 1) % numslots;
            slots[s] = i;
        }
        for (Py_ssize_t s = 0; s < numslots; s++) {
            uint32_t h = 0;
            uint64_t p = 0;
            if (slots[s] != -1) { h = self->hash[slots[s]]; p = (uint64_t)self->pos[slots[s]]; }
            put_u32(out, h);
            put_u32(out + 4, (uint32_t)(p >> 32));
            put_u32(out + 8, (uint32_t)p);
            out += 12;
        }
        pos += numslots * 12;
    }
    PyMem_Free(order);
    PyMem_Free(slots);
    return Py_BuildValue("(NN)", data, directory);
}

/* out[term]: its positions with pos appended (positions), else its count plus one. */
static int add_term(PyObject *out, PyObject *term, PyObject *pos, int positions) {
    PyObject *found = PyDict_GetItemWithError(out, term); /* borrowed */
    if (!found && PyErr_Occurred()) return -1;
    if (positions) {
        if (found) return PyList_Append(found, pos);
        PyObject *list = PyList_New(1);
        if (!list) return -1;
        Py_INCREF(pos);
        PyList_SET_ITEM(list, 0, pos);
        int bad = PyDict_SetItem(out, term, list) < 0;
        Py_DECREF(list);
        return bad ? -1 : 0;
    }
    PyObject *count = PyLong_FromSsize_t(found ? PyLong_AsSsize_t(found) + 1 : 1);
    int bad = !count || PyDict_SetItem(out, term, count) < 0;
    Py_XDECREF(count);
    return bad ? -1 : 0;
}

/* A token's forms in one field (an attribute of its forms) as a new PySequence_Fast, or NULL. */
static PyObject *token_forms(PyObject *tok, PyObject *field) {
    if (!PyTuple_Check(tok) || PyTuple_GET_SIZE(tok) < 4) {
        PyErr_SetString(PyExc_TypeError, "a token is a (position, start, end, forms) tuple");
        return NULL;
    }
    PyObject *terms = PyObject_GetAttr(PyTuple_GET_ITEM(tok, 3), field);
    if (!terms) return NULL;
    PyObject *seq = PySequence_Fast(terms, "a field's forms are a sequence");
    Py_DECREF(terms);
    return seq;
}

/* "a b" (analysis.pair_term) */
static PyObject *pair_of(PyObject *a, PyObject *b) {
    if (!PyUnicode_Check(a) || !PyUnicode_Check(b)) {
        PyErr_SetString(PyExc_TypeError, "a stem is a str");
        return NULL;
    }
    Py_ssize_t na = PyUnicode_GET_LENGTH(a), nb = PyUnicode_GET_LENGTH(b);
    Py_UCS4 max = PyUnicode_MAX_CHAR_VALUE(a) > PyUnicode_MAX_CHAR_VALUE(b) ? PyUnicode_MAX_CHAR_VALUE(a)
                                                                          : PyUnicode_MAX_CHAR_VALUE(b);
    PyObject *out = PyUnicode_New(na + 1 + nb, max);
    if (!out) return NULL;
    if (PyUnicode_CopyCharacters(out, 0, a, 0, na) < 0 || PyUnicode_WriteChar(out, na, ' ') < 0 ||
        PyUnicode_CopyCharacters(out, na + 1, b, 0, nb) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* gather_pairs(tokens, common, positions) -> {pair term: [positions]} or {pair term: count}
 *   tokens     as gather's
 *   common     the stems (a set) a pair needs on either side (analysis.pair_stems)
 * The pair field's terms (analysis._pairs): each two neighbouring tokens' stems "a b" where a or b
 * is common, at the first one's position, in the order they first occur. */
static PyObject *gather_pairs(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *tokens, *common;
    int positions;
    if (!PyArg_ParseTuple(args, "O!O!p", &PyTuple_Type, &tokens, &PyFrozenSet_Type, &common, &positions)) return NULL;
    PyObject *field = PyUnicode_InternFromString("stem");
    PyObject *out = field ? PyDict_New() : NULL;
    PyObject *prev = NULL, *next = NULL;
    if (!out) goto fail;
    Py_ssize_t n = PyTuple_GET_SIZE(tokens);
    if (n && !(prev = token_forms(PyTuple_GET_ITEM(tokens, 0), field))) goto fail;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        if (!(next = token_forms(PyTuple_GET_ITEM(tokens, i + 1), field))) goto fail;
        PyObject *pos = PyTuple_GET_ITEM(PyTuple_GET_ITEM(tokens, i), 0);
        Py_ssize_t ka = PySequence_Fast_GET_SIZE(prev), kb = PySequence_Fast_GET_SIZE(next);
        PyObject **as = PySequence_Fast_ITEMS(prev), **bs = PySequence_Fast_ITEMS(next);
        for (Py_ssize_t j = 0; j < ka; j++) {
            int a_common = PySet_Contains(common, as[j]);
            if (a_common < 0) goto fail;
            for (Py_ssize_t k = 0; k < kb; k++) {
                int b_common = a_common ? 1 : PySet_Contains(common, bs[k]);
                if (b_common < 0) goto fail;
                if (!b_common) continue;
                PyObject *term = pair_of(as[j], bs[k]);
                int bad = !term || add_term(out, term, pos, positions) < 0;
                Py_XDECREF(term);
                if (bad) goto fail;
            }
        }
        Py_DECREF(prev);
        prev = next;
        next = NULL;
    }
    Py_XDECREF(prev);
    Py_DECREF(field);
    return out;
fail:
    Py_XDECREF(prev);
    Py_XDECREF(next);
    Py_XDECREF(out);
    Py_XDECREF(field);
    return NULL;
}

/* gather(tokens, field, positions) -> {term: [positions]} or {term: count}
 *   tokens     a tuple of (position, start, end, forms) tuples (analysis._analysed)
 *   field      the attribute of forms holding the field's terms (a tuple of str)
 *   positions  whether to give each term's positions (else its number of occurrences)
 * Each term in the order it first occurs, its positions in token order (analysis.terms). */
static PyObject *gather(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *tokens, *field;
    int positions;
    if (!PyArg_ParseTuple(args, "O!Up", &PyTuple_Type, &tokens, &field, &positions)) return NULL;
    PyObject *out = PyDict_New();
    if (!out) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(tokens);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = PyTuple_GET_ITEM(tokens, i);
        PyObject *seq = token_forms(tok, field);
        if (!seq) goto fail;
        PyObject *pos = PyTuple_GET_ITEM(tok, 0);
        Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
        PyObject **items = PySequence_Fast_ITEMS(seq);
        for (Py_ssize_t j = 0; j < k; j++) {
            if (add_term(out, items[j], pos, positions) < 0) {
                Py_DECREF(seq);
                goto fail;
            }
        }
        Py_DECREF(seq);
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* ---------------------------------------------------------------- tokens (analysis._words) */

static PyObject *str_lower; /* str.lower */

static int is_joiner(Py_UCS4 ch) { return ch == '-' || ch == '/' || ch == '.' || ch == ':'; }

/* text[start:end] lower-cased as str.lower does it: in C where every character is Latin-1 (whose
 * lower-case letters are Latin-1 too, one for one), else by str.lower. */
static PyObject *lower_slice(PyObject *text, int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *src = (const Py_UCS1 *)data + start;
        Py_UCS1 max = 0;
        for (Py_ssize_t i = 0; i < end - start; i++) max |= (Py_UCS1)Py_UNICODE_TOLOWER(src[i]);
        PyObject *out = PyUnicode_New(end - start, max);
        if (!out) return NULL;
        Py_UCS1 *dst = PyUnicode_1BYTE_DATA(out);
        for (Py_ssize_t i = 0; i < end - start; i++) dst[i] = (Py_UCS1)Py_UNICODE_TOLOWER(src[i]);
        return out;
    }
    PyObject *sub = PyUnicode_Substring(text, start, end);
    if (!sub) return NULL;
    PyObject *word = PyObject_CallOneArg(str_lower, sub);
    Py_DECREF(sub);
    return word;
}

/* Appends (pos, start, end, word) -- word being text[start:end] lower-cased -- to out, or with
 * memo given, (pos, start, end, forms of word): memo[word], else forms(word, chain). */
static int put_token(PyObject *out, PyObject *text, int kind, const void *data, Py_ssize_t pos, Py_ssize_t start,
                     Py_ssize_t end, PyObject *memo, PyObject *forms, PyObject *chain) {
    PyObject *word = lower_slice(text, kind, data, start, end);
    if (!word) return -1;
    PyObject *value = word;
    if (memo) {
        value = PyDict_GetItemWithError(memo, word); /* borrowed */
        if (value) Py_INCREF(value);
        else if (!PyErr_Occurred()) value = PyObject_CallFunctionObjArgs(forms, word, chain, NULL);
        Py_DECREF(word);
        if (!value) return -1;
    }
    PyObject *tok = PyTuple_New(4);
    if (!tok) {
        Py_DECREF(value);
        return -1;
    }
    PyTuple_SET_ITEM(tok, 3, value);
    Py_ssize_t nums[3] = {pos, start, end};
    for (int k = 0; k < 3; k++) {
        PyObject *num = PyLong_FromSsize_t(nums[k]);
        if (!num) {
            Py_DECREF(tok);
            return -1;
        }
        PyTuple_SET_ITEM(tok, k, num);
    }
    int bad = PyList_Append(out, tok) < 0;
    Py_DECREF(tok);
    return bad ? -1 : 0;
}

/* The tokens of text as analysis._words makes them: each match of [^\W_]+(?:[-/.:][^\W_]+)* (a
 * word character being str.isalnum's), whole where it holds a decimal digit or no joiner (all
 * letters), else one token per joined part. */
static PyObject *tokens_of(PyObject *text, PyObject *memo, PyObject *forms, PyObject *chain) {
    if (PyUnicode_READY(text) < 0) return NULL;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), i = 0, pos = 0;
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    while (i < n) {
        if (!Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, i))) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        int digit = 0, joined = 0;
        for (;;) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            if (Py_UNICODE_ISALNUM(ch)) {
                digit = digit || Py_UNICODE_ISDECIMAL(ch);
                i++;
            } else if (is_joiner(ch) && i + 1 < n && Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, i + 1))) {
                joined = 1;
                i++;
            } else break;
            if (i >= n) break;
        }
        if (!joined || digit) {
            if (put_token(out, text, kind, data, pos++, start, i, memo, forms, chain) < 0) goto fail;
            continue;
        }
        Py_ssize_t part = start;
        for (Py_ssize_t j = start; j <= i; j++) {
            if (j == i || is_joiner(PyUnicode_READ(kind, data, j))) {
                if (put_token(out, text, kind, data, pos++, part, j, memo, forms, chain) < 0) goto fail;
                part = j + 1;
            }
        }
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* words(text) -> [(position, start, end, word)]: analysis._words's tokens. */
static PyObject *words(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    return tokens_of(text, NULL, NULL, NULL);
}

/* analysed(text, memo, forms, chain) -> ((position, start, end, forms of the word), ...):
 * analysis._analysed, each word's forms from memo or, where it has none, forms(word, chain). */
static PyObject *analysed(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *text, *memo, *forms, *chain;
    if (!PyArg_ParseTuple(args, "UO!OO", &text, &PyDict_Type, &memo, &forms, &chain)) return NULL;
    PyObject *list = tokens_of(text, memo, forms, chain);
    if (!list) return NULL;
    PyObject *out = PyList_AsTuple(list);
    Py_DECREF(list);
    return out;
}

static PyObject *md5_tail_py(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "bytes");
        return NULL;
    }
    return PyLong_FromUnsignedLong(md5_tail((const unsigned char *)PyBytes_AS_STRING(arg),
                                            (size_t)PyBytes_GET_SIZE(arg)));
}

static void TermIndex_dealloc(TermIndex *self) {
    PyMem_Free(self->hash);
    PyMem_Free(self->pos);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef TermIndex_methods[] = {
    {"add", (PyCFunction)TermIndex_add, METH_VARARGS, "Records of terms, their hashes kept."},
    {"tables", (PyCFunction)TermIndex_tables, METH_VARARGS, "The hash tables of every key added."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TermIndexType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "protokollsok._postings.TermIndex",
    .tp_basicsize = sizeof(TermIndex),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The records and hash tables of whoosh's terms file (an OrderedHashWriter).",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)TermIndex_dealloc,
    .tp_methods = TermIndex_methods,
};

static PyMethodDef methods[] = {
    {"md5_tail", md5_tail_py, METH_O, "whoosh's md5_hash of bytes (the digest's last four bytes)."},
    {"write_term", write_term, METH_VARARGS, "One term's term info and postings-file bytes (W3 format)."},
    {"gather", gather, METH_VARARGS, "A text's terms in one field from its analysed tokens (analysis.terms)."},
    {"gather_pairs", gather_pairs, METH_VARARGS, "A text's word pairs from its analysed tokens (analysis._pairs)."},
    {"words", words, METH_VARARGS, "A text's word tokens (analysis._words)."},
    {"analysed", analysed, METH_VARARGS, "A text's word tokens with their forms (analysis._analysed)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_postings", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__postings(void) {
    PyObject *pickle = PyImport_ImportModule("pickle");
    if (!pickle) return NULL;
    pickle_dumps = PyObject_GetAttrString(pickle, "dumps");
    Py_DECREF(pickle);
    if (!pickle_dumps) return NULL;
    str_lower = PyObject_GetAttrString((PyObject *)&PyUnicode_Type, "lower");
    if (!str_lower) return NULL;
    if (PyType_Ready(&PoolType) < 0 || PyType_Ready(&TermIndexType) < 0) return NULL;
    md5_init_table();
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&PoolType);
    if (PyModule_AddObject(m, "Pool", (PyObject *)&PoolType) < 0) {
        Py_DECREF(&PoolType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&TermIndexType);
    if (PyModule_AddObject(m, "TermIndex", (PyObject *)&TermIndexType) < 0) {
        Py_DECREF(&TermIndexType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
