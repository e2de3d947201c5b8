/* The RTSP loop's per-packet work, compiled: see video/rtsp/hot_path.py.
 *
 * Each function here is an exact counterpart of a pure-Python reference in hot_path.py (same
 * arguments, same results, the same floating-point operations in the same order), and the tests
 * run both on the same bytes. They only walk bytes that are already in a buffer: no I/O, no
 * state of their own, and every read is bounds-checked against the buffer's length, so any
 * bytes a camera sends give a result, never a read outside the buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

static int
span_at(PyObject *seq, Py_ssize_t i, Py_ssize_t length, Py_ssize_t *start, Py_ssize_t *end)
{
    PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
        PyErr_SetString(PyExc_TypeError, "a span is a tuple (start, end)");
        return -1;
    }
    *start = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 0));
    if (*start == -1 && PyErr_Occurred())
        return -1;
    *end = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
    if (*end == -1 && PyErr_Occurred())
        return -1;
    if (*start < 0 || *end > length || *start > *end) {
        PyErr_Format(PyExc_ValueError, "span (%zd, %zd) is outside the buffer of %zd bytes",
                     *start, *end, length);
        return -1;
    }
    return 0;
}

static inline uint32_t
u32_at(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* media_frames(buf, position, channel) -> (spans, position) */
static PyObject *
media_frames(PyObject *module, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t position;
    int channel;
    if (!PyArg_ParseTuple(args, "y*ni:media_frames", &view, &position, &channel))
        return NULL;
    const unsigned char *p = view.buf;
    Py_ssize_t size = view.len;
    PyObject *spans = NULL;
    if (position < 0 || position > size) {
        PyErr_Format(PyExc_ValueError, "position %zd is outside the buffer of %zd bytes", position, size);
        goto fail;
    }
    spans = PyList_New(0);
    if (spans == NULL)
        goto fail;
    while (size - position >= 4 && p[position] == 0x24 && p[position + 1] == channel) {
        Py_ssize_t end = position + 4 + (((Py_ssize_t)p[position + 2] << 8) | p[position + 3]);
        if (end > size)
            break;
        PyObject *span = Py_BuildValue("(nn)", position + 4, end);
        if (span == NULL)
            goto fail;
        int appended = PyList_Append(spans, span);
        Py_DECREF(span);
        if (appended < 0)
            goto fail;
        position = end;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(Nn)", spans, position);
fail:
    Py_XDECREF(spans);
    PyBuffer_Release(&view);
    return NULL;
}

/* reception(buf, spans, arrival, clock_rate, ssrc, max_seq, cycles, received, jitter,
 *           last_arrival, last_ts)
 *   -> (ssrc, max_seq, cycles, received, jitter, last_arrival, last_ts, restarted_at) */
static PyObject *
reception(PyObject *module, PyObject *args)
{
    Py_buffer view;
    PyObject *spans_arg, *ssrc_arg, *last_arrival_arg;
    double arrival, jitter;
    long long clock_rate, max_seq, cycles, received, last_ts;
    if (!PyArg_ParseTuple(args, "y*OdLOLLLdOL:reception", &view, &spans_arg, &arrival, &clock_rate,
                          &ssrc_arg, &max_seq, &cycles, &received, &jitter, &last_arrival_arg, &last_ts))
        return NULL;
    PyObject *spans = PySequence_Fast(spans_arg, "spans must be a sequence");
    if (spans == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int has_ssrc = ssrc_arg != Py_None, has_last_arrival = last_arrival_arg != Py_None;
    long long ssrc = 0, restarted_at = -1;
    double last_arrival = 0.0;
    if (has_ssrc) {
        ssrc = PyLong_AsLongLong(ssrc_arg);
        if (ssrc == -1 && PyErr_Occurred())
            goto fail;
    }
    if (has_last_arrival) {
        last_arrival = PyFloat_AsDouble(last_arrival_arg);
        if (last_arrival == -1.0 && PyErr_Occurred())
            goto fail;
    }
    const unsigned char *p = view.buf;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(spans);
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t start, end;
        if (span_at(spans, i, view.len, &start, &end) < 0)
            goto fail;
        if (end - start < 12)
            continue;
        long long sequence = ((long long)p[start + 2] << 8) | p[start + 3];
        long long timestamp = u32_at(p + start + 4);
        long long source = u32_at(p + start + 8);
        if (!has_ssrc || source != ssrc) {
            has_ssrc = 1;
            ssrc = source;
            restarted_at = sequence;
            max_seq = sequence;
            cycles = 0;
            received = 0;
            jitter = 0.0;
            has_last_arrival = 0;
        } else {
            long long ahead = (sequence - max_seq) & 0xFFFF;
            if (0 < ahead && ahead < 0x8000) {
                if (sequence < max_seq)
                    cycles += 1 << 16;
                max_seq = sequence;
            }
        }
        received += 1;
        if (timestamp == last_ts && has_last_arrival && arrival == last_arrival) {
            jitter -= jitter / 16;
            continue;
        }
        if (has_last_arrival) {
            long long step = (long long)(uint32_t)((uint32_t)timestamp - (uint32_t)last_ts);
            if (step >= (1LL << 31))
                step -= 1LL << 32;
            double d = fabs((arrival - last_arrival) * (double)clock_rate - (double)step);
            jitter += (d - jitter) / 16;
        }
        has_last_arrival = 1;
        last_arrival = arrival;
        last_ts = timestamp;
    }
    Py_DECREF(spans);
    PyBuffer_Release(&view);
    PyObject *ssrc_out = has_ssrc ? PyLong_FromLongLong(ssrc) : Py_NewRef(Py_None);
    PyObject *arrival_out = has_last_arrival ? PyFloat_FromDouble(last_arrival) : Py_NewRef(Py_None);
    PyObject *restarted_out = restarted_at >= 0 ? PyLong_FromLongLong(restarted_at) : Py_NewRef(Py_None);
    if (ssrc_out == NULL || arrival_out == NULL || restarted_out == NULL) {
        Py_XDECREF(ssrc_out);
        Py_XDECREF(arrival_out);
        Py_XDECREF(restarted_out);
        return NULL;
    }
    return Py_BuildValue("(NLLLdNLN)", ssrc_out, max_seq, cycles, received, jitter, arrival_out, last_ts,
                         restarted_out);
fail:
    Py_DECREF(spans);
    PyBuffer_Release(&view);
    return NULL;
}

/* fu_a_run(buf, spans, index, payload_type, sequence, raw_ts, parts)
 *   -> (index, sequence, in_fragment, marker) */
static PyObject *
fu_a_run(PyObject *module, PyObject *args)
{
    Py_buffer view;
    PyObject *spans_arg, *parts;
    Py_ssize_t index;
    int payload_type;
    long long sequence, raw_ts;
    if (!PyArg_ParseTuple(args, "y*OniLLO!:fu_a_run", &view, &spans_arg, &index, &payload_type, &sequence,
                          &raw_ts, &PyList_Type, &parts))
        return NULL;
    PyObject *spans = PySequence_Fast(spans_arg, "spans must be a sequence");
    if (spans == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    const unsigned char *p = view.buf;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(spans);
    int in_fragment = 1, marker = 0;
    if (index < 0) {
        PyErr_SetString(PyExc_ValueError, "index must not be negative");
        goto fail;
    }
    while (index < count && in_fragment) {
        Py_ssize_t start, end;
        if (span_at(spans, index, view.len, &start, &end) < 0)
            goto fail;
        if (end - start <= 14)
            break;
        const unsigned char *h = p + start;
        unsigned first = h[0], second = h[1], indicator = h[12], fu = h[13];
        long long number = ((long long)h[2] << 8) | h[3];
        if (!(first == 0x80 && (indicator & 0x1F) == 28 && !(fu & 0x80)
              && number == ((sequence + 1) & 0xFFFF) && (int)(second & 0x7F) == payload_type
              && (long long)u32_at(h + 4) == raw_ts))
            break;
        PyObject *payload = PyBytes_FromStringAndSize((const char *)h + 14, end - start - 14);
        if (payload == NULL)
            goto fail;
        int appended = PyList_Append(parts, payload);
        Py_DECREF(payload);
        if (appended < 0)
            goto fail;
        sequence = number;
        index += 1;
        if (fu & 0x40)
            in_fragment = 0;
        if (second & 0x80) {
            marker = 1;
            break;
        }
    }
    Py_DECREF(spans);
    PyBuffer_Release(&view);
    return Py_BuildValue("(nLOO)", index, sequence, in_fragment ? Py_True : Py_False,
                         marker ? Py_True : Py_False);
fail:
    Py_DECREF(spans);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"media_frames", media_frames, METH_VARARGS,
     "media_frames(buf, position, channel) -> (spans, position): the complete interleaved frames of "
     "one channel from position on."},
    {"reception", reception, METH_VARARGS,
     "reception(...) -> state: RFC 3550 reception statistics over a drain's packets."},
    {"fu_a_run", fu_a_run, METH_VARARGS,
     "fu_a_run(...) -> (index, sequence, in_fragment, marker): the next FU-A pieces of a unit."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "_speedups", "The RTSP loop's per-packet work, compiled.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module_definition);
}
