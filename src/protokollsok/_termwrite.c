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

static PyObject *dumps2(PyObject *obj) {
    return PyObject_CallFunction(pickle_dumps, "Oi", obj, 2);
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
    if (!data || !(pdata = dumps2(data))) goto done;
    if (compression && PyBytes_GET_SIZE(pdata) >= min_compress) {
        PyObject *z = deflated(pdata, compression);
        if (!z) goto done;
        Py_SETREF(pdata, z);
        comp = compression;
    }
    info = Py_BuildValue("(nlNiii)", n, ids[n - 1],
                         bmaxw_int ? PyLong_FromLong(0) : PyFloat_FromDouble(bmaxw), comp, bminlen, bmaxlen);
    if (!info || !(pinfo = dumps2(info))) goto done;
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
    if (!v || !(t = PyTuple_Pack(3, i, w, v)) || !(pickled = dumps2(t))) goto done;
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

static PyObject *write_term(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *postings, *table;
    int blocklimit, compression, fixed;
    Py_ssize_t min_compress;
    long long start;
    if (!PyArg_ParseTuple(args, "O!O!iiinL", &PyList_Type, &postings, &PyBytes_Type, &table, &blocklimit,
                          &compression, &fixed, &min_compress, &start))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(postings);
    if (n < 1 || blocklimit < 1) {
        PyErr_SetString(PyExc_ValueError, "write_term needs postings and a block limit");
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
    if (n == 1) {
        info = inlined(ids, weights, wa, values, lb);
        if (info) result = PyTuple_Pack(2, info, Py_None);
        goto done;
    }
    out = PyByteArray_FromStringAndSize(MAGIC, 4);
    if (!out) goto done;
    Stats s = {0.0, 0, 0, 0, 0.0, 1};
    for (Py_ssize_t b = 0; b < n; b += blocklimit) {
        Py_ssize_t m = n - b < blocklimit ? n - b : blocklimit;
        if (write_block(out, &s, ids + b, weights + b, wa + b, values + b, lb + b, m, fixed, compression,
                        min_compress, b + m >= n) < 0)
            goto done;
    }
    info = pack_terminfo(&s, 0, n, ids[0], ids[n - 1], 1, (int64_t)start,
                         (int32_t)PyByteArray_GET_SIZE(out));
    if (info) {
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

static PyMethodDef methods[] = {
    {"write_term", write_term, METH_VARARGS, "One term's term info and postings-file bytes (W3 format)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_termwrite", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__termwrite(void) {
    PyObject *pickle = PyImport_ImportModule("pickle");
    if (!pickle) return NULL;
    pickle_dumps = PyObject_GetAttrString(pickle, "dumps");
    Py_DECREF(pickle);
    if (!pickle_dumps) return NULL;
    return PyModule_Create(&module);
}
