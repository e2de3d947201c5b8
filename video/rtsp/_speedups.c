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

/* h264_drain(buf, spans, payload_type, parts, state, out, unit_type) -> state
 *
 * Depacketizer.push for every H.264 packet of a drain (video/rtsp/depacketize.py is the
 * reference, line for line): RFC 6184 single NAL units, STAP-A and FU-A, losses, timestamps.
 * A unit's pieces are kept as pointers into the buffer and copied once, into the unit's bytes,
 * when it is complete. ``parts`` holds the unfinished unit's bytes between drains (in as a list
 * of bytes-like pieces, out as one bytes or empty).
 * state: (units, keyframe, corrupt, in_fragment, sequence | None, raw_ts | None, ts, lost, bad) */

typedef struct {
    const unsigned char *data;  /* NULL: the bytes are in ``small`` */
    Py_ssize_t size;
    unsigned char small[6];
} Piece;

typedef struct {
    Piece *pieces;
    Py_ssize_t count, capacity;
    Py_ssize_t units;
    int keyframe, corrupt, in_fragment;
} Unit;

static int
add_piece(Unit *unit, const unsigned char *data, Py_ssize_t size, const unsigned char *small, int small_size)
{
    if (unit->count == unit->capacity) {
        Py_ssize_t capacity = unit->capacity ? unit->capacity * 2 : 64;
        Piece *grown = PyMem_Realloc(unit->pieces, capacity * sizeof(Piece));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        unit->pieces = grown;
        unit->capacity = capacity;
    }
    Piece *piece = &unit->pieces[unit->count++];
    piece->data = data;
    piece->size = data != NULL ? size : small_size;
    if (data == NULL)
        memcpy(piece->small, small, small_size);
    return 0;
}

static const unsigned char START_CODE[4] = {0, 0, 0, 1};

static PyObject *
unit_bytes(const Unit *unit)
{
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < unit->count; i++)
        total += unit->pieces[i].size;
    PyObject *data = PyBytes_FromStringAndSize(NULL, total);
    if (data == NULL)
        return NULL;
    char *cursor = PyBytes_AS_STRING(data);
    for (Py_ssize_t i = 0; i < unit->count; i++) {
        const Piece *piece = &unit->pieces[i];
        memcpy(cursor, piece->data != NULL ? (const void *)piece->data : (const void *)piece->small, piece->size);
        cursor += piece->size;
    }
    return data;
}

/* Depacketizer._finish */
static int
finish(Unit *unit, long long ts, PyObject *out, PyObject *unit_type)
{
    if (unit->count) {
        PyObject *data = unit_bytes(unit);
        if (data == NULL)
            return -1;
        PyObject *access_unit = PyObject_CallFunction(unit_type, "(NLOOn)", data, ts,
                                                      unit->keyframe ? Py_True : Py_False,
                                                      unit->corrupt ? Py_True : Py_False, unit->units);
        if (access_unit == NULL)
            return -1;
        int appended = PyList_Append(out, access_unit);
        Py_DECREF(access_unit);
        if (appended < 0)
            return -1;
    }
    unit->count = 0;
    unit->units = 0;
    unit->keyframe = unit->corrupt = unit->in_fragment = 0;
    return 0;
}

/* Depacketizer._unit, H.264 */
static void
note_nal(Unit *unit, unsigned header)
{
    unsigned nal_type = header & 0x1F;
    if ((header & 0x80) || nal_type < 1 || nal_type > 23
        || ((nal_type == 5 || nal_type == 7 || nal_type == 8) && !(header & 0x60)))
        unit->corrupt = 1;
    else if (nal_type == 5)
        unit->keyframe = 1;
}

/* Depacketizer._h264 */
static int
h264_payload(Unit *unit, const unsigned char *p, Py_ssize_t offset, Py_ssize_t end)
{
    unsigned header = p[offset], nal_type = header & 0x1F;
    if (nal_type == 28) {
        if (offset + 2 > end) {
            unit->corrupt = 1;
            return 0;
        }
        unsigned fu = p[offset + 1];
        if (fu & 0x80) {
            unsigned char first[5] = {0, 0, 0, 1, (unsigned char)((header & 0xE0) | (fu & 0x1F))};
            if (add_piece(unit, NULL, 0, first, 5) < 0)
                return -1;
            unit->units += 1;
            unit->in_fragment = 1;
            note_nal(unit, first[4]);
        } else if (!unit->in_fragment) {
            unit->corrupt = 1;
            return 0;
        }
        if (add_piece(unit, p + offset + 2, end - offset - 2, NULL, 0) < 0)
            return -1;
        if (fu & 0x40)
            unit->in_fragment = 0;
    } else if (nal_type == 24) {
        Py_ssize_t position = offset + 1;
        while (position + 2 <= end) {
            Py_ssize_t size = ((Py_ssize_t)p[position] << 8) | p[position + 1];
            position += 2;
            if (size == 0 || position + size > end) {
                unit->corrupt = 1;
                return 0;
            }
            if (add_piece(unit, NULL, 0, START_CODE, 4) < 0 || add_piece(unit, p + position, size, NULL, 0) < 0)
                return -1;
            unit->units += 1;
            note_nal(unit, p[position]);
            position += size;
        }
    } else if (nal_type >= 1 && nal_type <= 23) {
        if (add_piece(unit, NULL, 0, START_CODE, 4) < 0 || add_piece(unit, p + offset, end - offset, NULL, 0) < 0)
            return -1;
        unit->units += 1;
        note_nal(unit, header);
    } else {
        unit->corrupt = 1;
    }
    return 0;
}

static PyObject *
h264_drain(PyObject *module, PyObject *args)
{
    Py_buffer view, held = {0};
    PyObject *spans_arg, *parts, *out, *unit_type, *sequence_arg, *raw_ts_arg;
    int payload_type, keyframe, corrupt, in_fragment;
    Py_ssize_t units;
    long long ts, lost, bad;
    if (!PyArg_ParseTuple(args, "y*OiO!(nppp" "OOLLL)O!O:h264_drain", &view, &spans_arg, &payload_type,
                          &PyList_Type, &parts, &units, &keyframe, &corrupt, &in_fragment, &sequence_arg,
                          &raw_ts_arg, &ts, &lost, &bad, &PyList_Type, &out, &unit_type))
        return NULL;
    PyObject *spans = NULL, *prefix = NULL, *result = NULL;
    Unit unit = {NULL, 0, 0, units, keyframe, corrupt, in_fragment};
    int has_sequence = sequence_arg != Py_None, has_raw_ts = raw_ts_arg != Py_None;
    long long sequence = 0, raw_ts = 0;
    if (has_sequence && (sequence = PyLong_AsLongLong(sequence_arg)) == -1 && PyErr_Occurred())
        goto done;
    if (has_raw_ts && (raw_ts = PyLong_AsLongLong(raw_ts_arg)) == -1 && PyErr_Occurred())
        goto done;
    spans = PySequence_Fast(spans_arg, "spans must be a sequence");
    if (spans == NULL)
        goto done;
    if (PyList_GET_SIZE(parts)) {  /* the unit so far, from earlier drains: one piece */
        PyObject *empty = PyBytes_FromStringAndSize(NULL, 0);
        if (empty == NULL)
            goto done;
        prefix = PyObject_CallMethod(empty, "join", "O", parts);
        Py_DECREF(empty);
        if (prefix == NULL || PyObject_GetBuffer(prefix, &held, PyBUF_SIMPLE) < 0)
            goto done;
        if (add_piece(&unit, held.buf, held.len, NULL, 0) < 0)
            goto done;
    }
    const unsigned char *p = view.buf;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(spans);
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t start, end;
        if (span_at(spans, i, view.len, &start, &end) < 0)
            goto done;
        if (end - start < 12) {
            bad += 1;
            continue;
        }
        unsigned first = p[start], second = p[start + 1];
        if (first >> 6 != 2) {
            bad += 1;
            continue;
        }
        if ((int)(second & 0x7F) != payload_type)
            continue;  /* another payload on the same channel: not ours */
        long long number = ((long long)p[start + 2] << 8) | p[start + 3];
        long long timestamp = u32_at(p + start + 4);
        Py_ssize_t offset = start + 12 + 4 * (Py_ssize_t)(first & 0x0F);
        if (first & 0x10) {
            if (offset + 4 > end) {
                bad += 1;
                continue;
            }
            offset += 4 + 4 * (((Py_ssize_t)p[offset + 2] << 8) | p[offset + 3]);
        }
        if (first & 0x20)
            end -= p[end - 1];
        if (offset >= end) {
            bad += 1;
            continue;
        }
        if (has_sequence && number != ((sequence + 1) & 0xFFFF)) {
            lost += (number - sequence - 1) & 0xFFFF;
            unit.corrupt = 1;
            unit.in_fragment = 0;
        }
        has_sequence = 1;
        sequence = number;
        if (!has_raw_ts) {
            has_raw_ts = 1;
            raw_ts = timestamp;
        } else if (timestamp != raw_ts) {
            if (unit.count && finish(&unit, ts, out, unit_type) < 0)
                goto done;
            long long delta = (long long)(uint32_t)((uint32_t)timestamp - (uint32_t)raw_ts);
            ts += delta >= (1LL << 31) ? delta - (1LL << 32) : delta;
            raw_ts = timestamp;
        }
        if (h264_payload(&unit, p, offset, end) < 0)
            goto done;
        if ((second & 0x80) && finish(&unit, ts, out, unit_type) < 0)
            goto done;
    }
    /* the unfinished unit's bytes stay in ``parts`` for the next drain */
    PyObject *rest = unit.count ? unit_bytes(&unit) : NULL;
    if (unit.count && rest == NULL)
        goto done;
    int replaced = rest != NULL ? PyList_SetSlice(parts, 0, PyList_GET_SIZE(parts), NULL) == 0
                                      && PyList_Append(parts, rest) == 0
                                : PyList_SetSlice(parts, 0, PyList_GET_SIZE(parts), NULL) == 0;
    Py_XDECREF(rest);
    if (!replaced)
        goto done;
    PyObject *sequence_out = has_sequence ? PyLong_FromLongLong(sequence) : Py_NewRef(Py_None);
    PyObject *raw_ts_out = has_raw_ts ? PyLong_FromLongLong(raw_ts) : Py_NewRef(Py_None);
    if (sequence_out == NULL || raw_ts_out == NULL) {
        Py_XDECREF(sequence_out);
        Py_XDECREF(raw_ts_out);
        goto done;
    }
    result = Py_BuildValue("(nOOONNLLL)", unit.units, unit.keyframe ? Py_True : Py_False,
                           unit.corrupt ? Py_True : Py_False, unit.in_fragment ? Py_True : Py_False,
                           sequence_out, raw_ts_out, ts, lost, bad);
done:
    PyMem_Free(unit.pieces);
    if (held.obj != NULL)
        PyBuffer_Release(&held);
    Py_XDECREF(prefix);
    Py_XDECREF(spans);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef methods[] = {
    {"media_frames", media_frames, METH_VARARGS,
     "media_frames(buf, position, channel) -> (spans, position): the complete interleaved frames of "
     "one channel from position on."},
    {"reception", reception, METH_VARARGS,
     "reception(...) -> state: RFC 3550 reception statistics over a drain's packets."},
    {"h264_drain", h264_drain, METH_VARARGS,
     "h264_drain(...) -> state: Depacketizer.push for every H.264 packet of a drain."},
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
