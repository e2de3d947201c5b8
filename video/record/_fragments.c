/* An H.264 segment's pending samples and the fragments they make, compiled: see
 * video/record/pending_samples.py, whose PythonPendingSamples is the reference (same calls, same
 * bytes; the tests run both).
 *
 * A sample is kept as pieces: a reference to the packet's bytes object (immutable), where its
 * unit starts, how long it is, and whether its 4-byte length goes before it. A fragment is built in
 * one bytes object of its final size: the moof (ISO/IEC 14496-12 8.8.4-8.8.8, laid out as
 * video/codec/fmp4.py's fragment_header does), the mdat header, then every piece, copied once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MERGED_OR_DROPPED 0
#define APPENDED 1
#define FRAGMENT_DUE 2

#define SYNC_SAMPLE_FLAGS 0x02000000u
#define NON_SYNC_SAMPLE_FLAGS 0x01010000u
#define TRUN_FLAGS (0x000001u | 0x000100u | 0x000200u | 0x000400u | 0x000800u)
#define MOOF_FIXED 88

static PyObject *struct_error; /* struct.error: what fragment_header raises for a field out of range */

typedef struct {
    PyObject *bytes; /* a bytes object */
    Py_ssize_t start;
    Py_ssize_t length;
    int prefixed; /* write length as 4 bytes before the piece */
} Piece;

typedef struct {
    long long dts;
    long long offset; /* composition offset */
    long long size;
    int keyframe;
} Sample;

typedef struct {
    PyObject_HEAD
    long long fragment_ticks;
    PyObject *general;
    Piece *pieces;
    Py_ssize_t piece_count, piece_room;
    Sample *samples;
    Py_ssize_t sample_count, sample_room;
    PyObject *fragment; /* (bytes, count) built and not taken yet */
    long long last_duration;
    long long sequence;
} PendingSamples;

static inline uint32_t
u32_at(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline unsigned char *
put_u32(unsigned char *p, uint32_t value)
{
    p[0] = (unsigned char)(value >> 24);
    p[1] = (unsigned char)(value >> 16);
    p[2] = (unsigned char)(value >> 8);
    p[3] = (unsigned char)value;
    return p + 4;
}

static inline unsigned char *
put_box(unsigned char *p, uint32_t size, const char *kind)
{
    p = put_u32(p, size);
    memcpy(p, kind, 4);
    return p + 4;
}

/* pending_samples._length_prefixed */
static int
length_prefixed(const unsigned char *p, Py_ssize_t size)
{
    Py_ssize_t offset = 0;
    while (offset + 4 <= size) {
        Py_ssize_t length = (Py_ssize_t)u32_at(p + offset);
        if (length == 0 || offset + 4 + length > size)
            return 0;
        offset += 4 + length;
    }
    return offset == size;
}

/* pending_samples.one_unit */
static int
one_unit(const unsigned char *p, Py_ssize_t size, long long nal_units)
{
    if (size < 4 || p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 1)
        return 0;
    if (nal_units)
        return nal_units == 1;
    for (Py_ssize_t i = 4; i + 3 <= size; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
            return 0;
    }
    return !length_prefixed(p, size);
}

static void
release_pieces(PendingSamples *self, Py_ssize_t from)
{
    for (Py_ssize_t i = from; i < self->piece_count; i++)
        Py_XDECREF(self->pieces[i].bytes);
    self->piece_count = from;
}

static int
room_for(void **array, Py_ssize_t *room, Py_ssize_t needed, size_t item)
{
    if (needed <= *room)
        return 0;
    Py_ssize_t grown = *room ? *room : 64;
    while (grown < needed)
        grown *= 2;
    void *moved = PyMem_Realloc(*array, (size_t)grown * item);
    if (moved == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *array = moved;
    *room = grown;
    return 0;
}

static int
push_piece(PendingSamples *self, PyObject *bytes, Py_ssize_t start, Py_ssize_t length, int prefixed)
{
    if (room_for((void **)&self->pieces, &self->piece_room, self->piece_count + 1, sizeof(Piece)) < 0)
        return -1;
    Py_INCREF(bytes);
    self->pieces[self->piece_count++] = (Piece){bytes, start, length, prefixed};
    return 0;
}

static int
check_u32(long long value)
{
    if (value < 0 || value > 0xFFFFFFFFLL) {
        PyErr_SetString(struct_error, "'I' format requires 0 <= number <= 4294967295");
        return -1;
    }
    return 0;
}

static int
check_i32(long long value)
{
    if (value < INT32_MIN || value > INT32_MAX) {
        PyErr_SetString(struct_error, "'i' format requires -2147483648 <= number <= 2147483647");
        return -1;
    }
    return 0;
}

/* The pending samples as one fragment, (bytes, count); the pending list is empty afterwards. */
static PyObject *
build(PendingSamples *self, int has_next, long long next_dts, long long tail_duration)
{
    Py_ssize_t count = self->sample_count;
    Sample *samples = self->samples;
    PyObject *result = NULL, *data = NULL;
    self->sample_count = 0; /* as the reference, the samples are gone whatever happens below */
    self->sequence += 1;
    long long mdat_size = 8;
    for (Py_ssize_t i = 0; i < count; i++)
        mdat_size += samples[i].size;
    long long moof_size = MOOF_FIXED + 16LL * count;
    if (check_u32(self->sequence) < 0 || check_u32(mdat_size) < 0 || check_u32(moof_size + 8) < 0)
        goto done;
    if (samples[0].dts < 0) {
        PyErr_SetString(struct_error, "argument out of range");
        goto done;
    }
    data = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(moof_size + mdat_size));
    if (data == NULL)
        goto done;
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(data);
    p = put_box(p, (uint32_t)moof_size, "moof");
    p = put_box(p, 16, "mfhd");
    p = put_u32(p, 0);
    p = put_u32(p, (uint32_t)self->sequence);
    p = put_box(p, (uint32_t)(moof_size - 24), "traf");
    p = put_box(p, 16, "tfhd");
    p = put_u32(p, 0x020000); /* default-base-is-moof */
    p = put_u32(p, 1);        /* track 1 */
    p = put_box(p, 20, "tfdt");
    p = put_u32(p, 1u << 24); /* version 1: a 64-bit decode time */
    uint64_t base = (uint64_t)samples[0].dts;
    p = put_u32(p, (uint32_t)(base >> 32));
    p = put_u32(p, (uint32_t)base);
    p = put_box(p, (uint32_t)(20 + 16 * count), "trun");
    p = put_u32(p, (1u << 24) | TRUN_FLAGS);
    p = put_u32(p, (uint32_t)count);
    p = put_u32(p, (uint32_t)(moof_size + 8)); /* data offset: the samples start after the mdat header */
    for (Py_ssize_t i = 0; i < count; i++) {
        long long duration;
        if (i + 1 < count)
            duration = samples[i + 1].dts - samples[i].dts;
        else if (has_next)
            duration = next_dts - samples[i].dts;
        else
            duration = tail_duration ? tail_duration : self->last_duration;
        self->last_duration = duration;
        if (check_u32(duration) < 0 || check_u32(samples[i].size) < 0 || check_i32(samples[i].offset) < 0)
            goto done;
        p = put_u32(p, (uint32_t)duration);
        p = put_u32(p, (uint32_t)samples[i].size);
        p = put_u32(p, samples[i].keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS);
        p = put_u32(p, (uint32_t)(int32_t)samples[i].offset);
    }
    p = put_box(p, (uint32_t)mdat_size, "mdat");
    for (Py_ssize_t i = 0; i < self->piece_count; i++) {
        Piece *piece = &self->pieces[i];
        if (piece->prefixed)
            p = put_u32(p, (uint32_t)piece->length);
        if (piece->length) {
            memcpy(p, PyBytes_AS_STRING(piece->bytes) + piece->start, (size_t)piece->length);
            p += piece->length;
        }
    }
    result = Py_BuildValue("(On)", data, count);
done:
    Py_XDECREF(data);
    release_pieces(self, 0);
    return result;
}

static int
PendingSamples_init(PendingSamples *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"fragment_ticks", "general", NULL};
    long long fragment_ticks;
    PyObject *general;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "LO:PendingSamples", keywords, &fragment_ticks, &general))
        return -1;
    if (!PyCallable_Check(general)) {
        PyErr_SetString(PyExc_TypeError, "general must be callable (mp4_sample)");
        return -1;
    }
    self->fragment_ticks = fragment_ticks;
    Py_XSETREF(self->general, Py_NewRef(general));
    return 0;
}

static void
PendingSamples_dealloc(PendingSamples *self)
{
    release_pieces(self, 0);
    PyMem_Free(self->pieces);
    PyMem_Free(self->samples);
    Py_XDECREF(self->general);
    Py_XDECREF(self->fragment);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* add(data, nal_units, dts, offset, keyframe) -> MERGED_OR_DROPPED, APPENDED or FRAGMENT_DUE */
static PyObject *
PendingSamples_add(PendingSamples *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError, "add() takes 5 arguments (%zd given)", nargs);
        return NULL;
    }
    long long nal_units = PyLong_AsLongLong(args[1]);
    long long dts = PyLong_AsLongLong(args[2]);
    long long offset = PyLong_AsLongLong(args[3]);
    if (PyErr_Occurred())
        return NULL;
    int keyframe = PyObject_IsTrue(args[4]);
    if (keyframe < 0)
        return NULL;
    /* room for the sample first: once its pieces are in, nothing may fail before it is entered */
    if (room_for((void **)&self->samples, &self->sample_room, self->sample_count + 1, sizeof(Sample)) < 0)
        return NULL;
    PyObject *data = args[0];
    PyObject *owned = NULL;
    if (!PyBytes_Check(data)) {
        owned = PyBytes_FromObject(data); /* a bytearray or memoryview: kept as an immutable copy */
        if (owned == NULL)
            return NULL;
        data = owned;
    }
    Py_ssize_t first_piece = self->piece_count;
    long long size;
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(data);
    Py_ssize_t length = PyBytes_GET_SIZE(data);
    if (one_unit(p, length, nal_units)) {
        size = length > 4 ? length : 0;
        if (size && push_piece(self, data, 4, length - 4, 1) < 0)
            goto fail;
    } else {
        PyObject *sample = PyObject_CallOneArg(self->general, data);
        if (sample == NULL)
            goto fail;
        if (!PyBytes_Check(sample)) {
            Py_SETREF(sample, PyBytes_FromObject(sample));
            if (sample == NULL)
                goto fail;
        }
        size = PyBytes_GET_SIZE(sample);
        int pushed = push_piece(self, sample, 0, PyBytes_GET_SIZE(sample), 0);
        Py_DECREF(sample);
        if (pushed < 0)
            goto fail;
    }
    Py_XDECREF(owned);
    owned = NULL;
    int outcome = APPENDED;
    if (self->sample_count) {
        Sample *last = &self->samples[self->sample_count - 1];
        if (dts == last->dts) { /* one picture in several packets: one sample */
            last->size += size;
            last->keyframe = last->keyframe || keyframe;
            return PyLong_FromLong(MERGED_OR_DROPPED);
        }
        if (dts < last->dts) { /* a backwards timestamp would break the file's timeline */
            release_pieces(self, first_piece);
            return PyLong_FromLong(MERGED_OR_DROPPED);
        }
        if (keyframe || dts - self->samples[0].dts >= self->fragment_ticks) {
            /* the new sample's piece (none for an empty one) is not the fragment's: set it aside
               while the fragment is built */
            Py_ssize_t held = self->piece_count - first_piece;
            Piece kept = held ? self->pieces[first_piece] : (Piece){NULL, 0, 0, 0};
            self->piece_count = first_piece;
            PyObject *fragment = build(self, 1, dts, 0);
            if (held) /* build left no piece behind */
                self->pieces[0] = kept;
            self->piece_count = held;
            if (fragment == NULL) {
                release_pieces(self, 0);
                return NULL;
            }
            Py_XSETREF(self->fragment, fragment);
            outcome = FRAGMENT_DUE;
        }
    }
    self->samples[self->sample_count++] = (Sample){dts, offset, size, keyframe};
    return PyLong_FromLong(outcome);
fail:
    Py_XDECREF(owned);
    return NULL;
}

static PyObject *
PendingSamples_take_fragment(PendingSamples *self, PyObject *unused)
{
    PyObject *fragment = self->fragment;
    if (fragment == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no fragment is due");
        return NULL;
    }
    self->fragment = NULL;
    return fragment;
}

static PyObject *
PendingSamples_flush(PendingSamples *self, PyObject *tail)
{
    long long tail_duration = 0;
    if (tail != Py_None) {
        tail_duration = PyLong_AsLongLong(tail);
        if (tail_duration == -1 && PyErr_Occurred())
            return NULL;
    }
    if (!self->sample_count)
        Py_RETURN_NONE;
    return build(self, 0, 0, tail_duration);
}

static Py_ssize_t
PendingSamples_len(PendingSamples *self)
{
    return self->sample_count;
}

static PyObject *
PendingSamples_first_dts(PendingSamples *self, void *closure)
{
    if (!self->sample_count)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(self->samples[0].dts);
}

static PyObject *
PendingSamples_last_dts(PendingSamples *self, void *closure)
{
    if (!self->sample_count)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(self->samples[self->sample_count - 1].dts);
}

static PyObject *
PendingSamples_sequence(PendingSamples *self, void *closure)
{
    return PyLong_FromLongLong(self->sequence);
}

static PyObject *
PendingSamples_fragment_ticks(PendingSamples *self, void *closure)
{
    return PyLong_FromLongLong(self->fragment_ticks);
}

static PyMethodDef PendingSamples_methods[] = {
    {"add", (PyCFunction)(void (*)(void))PendingSamples_add, METH_FASTCALL,
     "add(data, nal_units, dts, offset, keyframe) -> MERGED_OR_DROPPED (0), APPENDED (1) or FRAGMENT_DUE (2)"},
    {"take_fragment", (PyCFunction)PendingSamples_take_fragment, METH_NOARGS,
     "take_fragment() -> (bytes, count): the fragment completed by the last add"},
    {"flush", (PyCFunction)PendingSamples_flush, METH_O,
     "flush(tail_duration) -> (bytes, count) or None: the fragment of what is pending"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef PendingSamples_getset[] = {
    {"first_dts", (getter)PendingSamples_first_dts, NULL, "the first pending sample's decode time", NULL},
    {"last_dts", (getter)PendingSamples_last_dts, NULL, "the last pending sample's decode time", NULL},
    {"sequence", (getter)PendingSamples_sequence, NULL, "the last fragment's sequence number", NULL},
    {"fragment_ticks", (getter)PendingSamples_fragment_ticks, NULL, "a fragment's longest span", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods PendingSamples_sequence_methods = {
    .sq_length = (lenfunc)PendingSamples_len,
};

static PyTypeObject PendingSamplesType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "watchwall.video.record._fragments.PendingSamples",
    .tp_doc = "An H.264 segment's pending samples (video/record/pending_samples.py).",
    .tp_basicsize = sizeof(PendingSamples),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)PendingSamples_init,
    .tp_dealloc = (destructor)PendingSamples_dealloc,
    .tp_methods = PendingSamples_methods,
    .tp_getset = PendingSamples_getset,
    .tp_as_sequence = &PendingSamples_sequence_methods,
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "_fragments", "An H.264 segment's pending samples, compiled.", -1, NULL,
};

PyMODINIT_FUNC
PyInit__fragments(void)
{
    PyObject *struct_module = PyImport_ImportModule("struct");
    if (struct_module == NULL)
        return NULL;
    struct_error = PyObject_GetAttrString(struct_module, "error");
    Py_DECREF(struct_module);
    if (struct_error == NULL)
        return NULL;
    if (PyType_Ready(&PendingSamplesType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&module_definition);
    if (module == NULL)
        return NULL;
    if (PyModule_AddObjectRef(module, "PendingSamples", (PyObject *)&PendingSamplesType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
