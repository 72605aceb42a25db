/* cefmt._speedups: the optional compiled accelerator of cefmt's hot paths.
 *
 * Every function here is a fast path for one pure-Python function, which stays the reference. A
 * function either returns exactly what the Python one returns for the same input, or it returns the
 * module's FALLBACK object, meaning "take the Python path": that path then gives the result, or raises
 * the error with its message and position. The C code never raises a cefmt error itself and never
 * changes its arguments, so whatever it does not handle is handled, and reported, in one place.
 *
 *   loads(raw, max_depth, max_containers)   JSON text (bytes or str) to a value; _data.load_json
 *   build(event, attributes, data, trusted, generate_id)   the record builder; _event._build
 *   parse_timestamp(text)                   RFC 3339 to a Timestamp; _timestamp.parse_timestamp
 *   format_timestamp(stamp)                 a UTC Timestamp's canonical text; _timestamp.format_timestamp
 *   read_headers(headers, max_length)       a dict of str headers; _headers._read_plain_dict
 *   read_pairs(pairs, prefix, max_count, max_length)   (str, bytes) header pairs; _headers.read_header_pairs
 *   configure(name, value)                  what the Python modules hand over once at import
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>
#include <math.h>
#include <string.h>

static PyObject *FALLBACK;
#define RETURN_FALLBACK return Py_NewRef(FALLBACK)

/* -- what the Python modules hand over (configure) ------------------------------------------------ */

static PyObject *cfg_event_type;      /* CloudEvent */
static Py_ssize_t ev_off[11];         /* slot offsets: id source type specversion datacontenttype
                                         dataschema subject time extensions _data _view */
static int ev_ready;
static PyObject *cfg_ext_type;        /* Extensions */
static Py_ssize_t ext_items_off;
static PyObject *cfg_no_extensions;   /* the shared empty Extensions */
static PyObject *cfg_sources;         /* Memo: source -> checked source */
static PyObject *cfg_schemas;         /* Memo: dataschema (spec 1.0) -> checked value */
static PyObject *cfg_schema_refs;     /* Memo: schemaurl (spec 0.3) -> checked value */
static PyObject *cfg_decode_base64;   /* _types.decode_base64 */
static PyObject *cfg_media_types;     /* Memo: datacontenttype -> checked value */
static PyObject *cfg_is_json;         /* Memo: datacontenttype -> bool */
static PyObject *cfg_check_data;      /* _frozen.check_data */
static PyObject *cfg_to_timestamp;    /* _timestamp.to_timestamp */
static PyObject *cfg_new_id;          /* _event._new_id */
static PyObject *cfg_stamp_type;      /* Timestamp */
static Py_ssize_t stamp_nano_off;
static int stamp_ready;
static PyObject *cfg_utc;             /* datetime.timezone.utc */
static PyObject *cfg_zones;           /* Memo: minutes -> timezone */
static PyObject *cfg_encoder;         /* the C JSON encoder of _data (encoder(value, 0) -> chunks) */
static PyObject *cfg_body_kinds;      /* Memo: datacontenttype -> (kind, charset) */
static PyObject *cfg_received_type;   /* _http.Received */
static Py_ssize_t received_off[3];    /* attributes, content_type, body */
static int received_ready;
static PyObject *s_utf8;

static PyObject *types_seen;          /* event types seen, each kept once (bounded) */
#define TYPES_SEEN_MAX 4096

/* interned names */
static PyObject *s_specversion, *s_id, *s_source, *s_type, *s_time, *s_datacontenttype, *s_subject;
static PyObject *s_v10, *s_v03, *s_app_json, *s_data;
static PyObject *special_names;       /* name -> code, for the names the builder treats specially */
enum { N_CORE = 1, N_SUBJECT = 2, N_DATA = 4, N_SCHEMA = 5, N_BASE64 = 6, N_SCHEMAURL = 7, N_ENCODING = 8 };

/* The deepest nesting tried here; deeper documents take the Python path, whose parser recurses. */
#define MAX_C_DEPTH 200

static PyObject *small_ints[10];

/* A limit given as a Python int, as a Py_ssize_t: one beyond the C range is as good as unbounded (a
 * Limits field may be any positive int). */
static int
bounded(PyObject *value, void *out)
{
    if (!PyLong_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "a limit must be an int");
        return 0;
    }
    int overflow;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (number == -1 && PyErr_Occurred()) {
        return 0;
    }
    if (overflow > 0 || number > PY_SSIZE_T_MAX) {
        number = PY_SSIZE_T_MAX;
    } else if (overflow < 0 || number < 0) {
        number = 0;
    }
    *(Py_ssize_t *)out = (Py_ssize_t)number;
    return 1;
}

/* A depth limit for the C code's own recursion: at most MAX_C_DEPTH. */
#define C_DEPTH(limit) ((int)((limit) < MAX_C_DEPTH ? (limit) : MAX_C_DEPTH))

static int
slot_offset(PyObject *descr, Py_ssize_t *offset)
{
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
        return -1;
    }
    *offset = member->offset;
    return 0;
}

static inline void
set_slot(PyObject *obj, Py_ssize_t offset, PyObject *value)
{
    PyObject **slot = (PyObject **)((char *)obj + offset);
    PyObject *old = *slot;
    Py_INCREF(value);
    *slot = value;
    Py_XDECREF(old);
}

static inline PyObject *
get_slot(PyObject *obj, Py_ssize_t offset)
{
    return *(PyObject **)((char *)obj + offset);
}

#define KEEP(var)                 \
    do {                          \
        Py_XSETREF(var, value);   \
        Py_INCREF(value);         \
    } while (0)

static PyObject *
configure(PyObject *self, PyObject *args)
{
    const char *name;
    PyObject *value;
    if (!PyArg_ParseTuple(args, "sO:configure", &name, &value)) {
        return NULL;
    }
    if (strcmp(name, "event_slots") == 0) {
        /* (CloudEvent, [descriptor, ...] in the order of ev_off) */
        PyObject *cls, *descrs;
        if (!PyArg_ParseTuple(value, "OO", &cls, &descrs) || !PyList_Check(descrs) || PyList_GET_SIZE(descrs) != 11) {
            PyErr_SetString(PyExc_TypeError, "event_slots: (class, list of 11 descriptors)");
            return NULL;
        }
        for (Py_ssize_t i = 0; i < 11; i++) {
            if (slot_offset(PyList_GET_ITEM(descrs, i), &ev_off[i]) < 0) {
                ev_ready = 0;
                Py_RETURN_FALSE;
            }
        }
        Py_INCREF(cls);
        Py_XSETREF(cfg_event_type, cls);
        ev_ready = 1;
        Py_RETURN_TRUE;
    }
    if (strcmp(name, "extensions") == 0) {
        /* (Extensions, its _items descriptor, the empty instance) */
        PyObject *cls, *descr, *empty;
        if (!PyArg_ParseTuple(value, "OOO", &cls, &descr, &empty)) {
            return NULL;
        }
        if (slot_offset(descr, &ext_items_off) < 0) {
            ev_ready = 0;
            Py_RETURN_FALSE;
        }
        Py_INCREF(cls);
        Py_XSETREF(cfg_ext_type, cls);
        Py_INCREF(empty);
        Py_XSETREF(cfg_no_extensions, empty);
        Py_RETURN_TRUE;
    }
    if (strcmp(name, "timestamp") == 0) {
        /* (Timestamp, its _nanosecond descriptor, UTC, the zones memo) */
        PyObject *cls, *descr, *utc, *zones;
        if (!PyArg_ParseTuple(value, "OOOO", &cls, &descr, &utc, &zones)) {
            return NULL;
        }
        if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, PyDateTimeAPI->DateTimeType) ||
            slot_offset(descr, &stamp_nano_off) < 0) {
            stamp_ready = 0;
            Py_RETURN_FALSE;
        }
        Py_INCREF(cls);
        Py_XSETREF(cfg_stamp_type, cls);
        Py_INCREF(utc);
        Py_XSETREF(cfg_utc, utc);
        Py_INCREF(zones);
        Py_XSETREF(cfg_zones, zones);
        stamp_ready = 1;
        Py_RETURN_TRUE;
    }
    if (strcmp(name, "sources") == 0) { KEEP(cfg_sources); Py_RETURN_TRUE; }
    if (strcmp(name, "schemas") == 0) { KEEP(cfg_schemas); Py_RETURN_TRUE; }
    if (strcmp(name, "schema_refs") == 0) { KEEP(cfg_schema_refs); Py_RETURN_TRUE; }
    if (strcmp(name, "decode_base64") == 0) { KEEP(cfg_decode_base64); Py_RETURN_TRUE; }
    if (strcmp(name, "media_types") == 0) { KEEP(cfg_media_types); Py_RETURN_TRUE; }
    if (strcmp(name, "is_json") == 0) { KEEP(cfg_is_json); Py_RETURN_TRUE; }
    if (strcmp(name, "check_data") == 0) { KEEP(cfg_check_data); Py_RETURN_TRUE; }
    if (strcmp(name, "to_timestamp") == 0) { KEEP(cfg_to_timestamp); Py_RETURN_TRUE; }
    if (strcmp(name, "new_id") == 0) { KEEP(cfg_new_id); Py_RETURN_TRUE; }
    if (strcmp(name, "encoder") == 0) { KEEP(cfg_encoder); Py_RETURN_TRUE; }
    if (strcmp(name, "received") == 0) {
        /* (Received, [descriptor of attributes, content_type, body]) */
        PyObject *cls, *descrs;
        if (!PyArg_ParseTuple(value, "OO", &cls, &descrs) || !PyList_Check(descrs) || PyList_GET_SIZE(descrs) != 3) {
            PyErr_SetString(PyExc_TypeError, "received: (class, list of 3 descriptors)");
            return NULL;
        }
        for (Py_ssize_t i = 0; i < 3; i++) {
            if (slot_offset(PyList_GET_ITEM(descrs, i), &received_off[i]) < 0) {
                received_ready = 0;
                Py_RETURN_FALSE;
            }
        }
        Py_INCREF(cls);
        Py_XSETREF(cfg_received_type, cls);
        received_ready = 1;
        Py_RETURN_TRUE;
    }
    if (strcmp(name, "body_kinds") == 0) { KEEP(cfg_body_kinds); Py_RETURN_TRUE; }
    PyErr_Format(PyExc_KeyError, "unknown setting %s", name);
    return NULL;
}

/* -- JSON text -------------------------------------------------------------------------------------- */

/* Short ASCII strings (member names, attribute values) already made, so that a stream's repeated
 * strings are one object each and cost a lookup instead of an allocation. Direct-mapped. */
#define STR_CACHE_SIZE 4096
#define STR_CACHE_MAX_LEN 64
static PyObject *str_cache[STR_CACHE_SIZE];

static PyObject *
ascii_string(const unsigned char *start, Py_ssize_t len)
{
    if (len <= STR_CACHE_MAX_LEN) {
        uint32_t hash = 2166136261u;
        for (Py_ssize_t i = 0; i < len; i++) {
            hash = (hash ^ start[i]) * 16777619u;
        }
        PyObject **entry = &str_cache[hash & (STR_CACHE_SIZE - 1)];
        PyObject *found = *entry;
        if (found != NULL && PyUnicode_GET_LENGTH(found) == len && memcmp(PyUnicode_1BYTE_DATA(found), start, len) == 0) {
            Py_INCREF(found);
            return found;
        }
        PyObject *made = PyUnicode_New(len, 127);
        if (made == NULL) {
            return NULL;
        }
        memcpy(PyUnicode_1BYTE_DATA(made), start, len);
        Py_INCREF(made);
        Py_XSETREF(*entry, made);
        return made;
    }
    PyObject *made = PyUnicode_New(len, 127);
    if (made != NULL) {
        memcpy(PyUnicode_1BYTE_DATA(made), start, len);
    }
    return made;
}

typedef struct {
    const unsigned char *s;
    const unsigned char *end;
    int depth;
    int max_depth;
    Py_ssize_t containers;
    Py_ssize_t max_containers;
} Parser;

#define IS_SPACE(c) ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

static inline void
skip_space(Parser *p)
{
    while (p->s < p->end && IS_SPACE(*p->s)) {
        p->s++;
    }
}

static int
hex4(const unsigned char *s, unsigned int *out)
{
    unsigned int value = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        value <<= 4;
        if (c >= '0' && c <= '9') value |= c - '0';
        else if (c >= 'a' && c <= 'f') value |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') value |= c - 'A' + 10;
        else return -1;
    }
    *out = value;
    return 0;
}

/* A string with escapes: unescaped into UTF-8, then decoded (which checks the rest of the UTF-8). */
static PyObject *
escaped_string(Parser *p, const unsigned char *start)
{
    Py_ssize_t capacity = (p->end - start);
    char *buffer = PyMem_Malloc(capacity > 0 ? capacity : 1);
    if (buffer == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t n = 0;
    const unsigned char *s = start;
    while (s < p->end) {
        unsigned char c = *s;
        if (c == '"') {
            PyObject *out = PyUnicode_DecodeUTF8(buffer, n, NULL);
            PyMem_Free(buffer);
            p->s = s + 1;
            return out;
        }
        if (c < 0x20) {
            break;
        }
        if (c != '\\') {
            buffer[n++] = (char)c;
            s++;
            continue;
        }
        if (s + 1 >= p->end) {
            break;
        }
        c = s[1];
        s += 2;
        switch (c) {
        case '"': buffer[n++] = '"'; continue;
        case '\\': buffer[n++] = '\\'; continue;
        case '/': buffer[n++] = '/'; continue;
        case 'b': buffer[n++] = '\b'; continue;
        case 'f': buffer[n++] = '\f'; continue;
        case 'n': buffer[n++] = '\n'; continue;
        case 'r': buffer[n++] = '\r'; continue;
        case 't': buffer[n++] = '\t'; continue;
        case 'u': break;
        default: goto fail;
        }
        unsigned int code;
        if (p->end - s < 4 || hex4(s, &code) < 0) {
            break;
        }
        s += 4;
        if (code >= 0xDC00 && code <= 0xDFFF) {
            break; /* a lone low surrogate */
        }
        if (code >= 0xD800 && code <= 0xDBFF) {
            unsigned int low;
            if (p->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &low) < 0 || low < 0xDC00 || low > 0xDFFF) {
                break; /* a lone high surrogate */
            }
            s += 6;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        /* An escape is at least six bytes and its UTF-8 at most four: the buffer never overflows. */
        if (code < 0x80) {
            buffer[n++] = (char)code;
        } else if (code < 0x800) {
            buffer[n++] = (char)(0xC0 | (code >> 6));
            buffer[n++] = (char)(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            buffer[n++] = (char)(0xE0 | (code >> 12));
            buffer[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
            buffer[n++] = (char)(0x80 | (code & 0x3F));
        } else {
            buffer[n++] = (char)(0xF0 | (code >> 18));
            buffer[n++] = (char)(0x80 | ((code >> 12) & 0x3F));
            buffer[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
            buffer[n++] = (char)(0x80 | (code & 0x3F));
        }
    }
fail:
    PyMem_Free(buffer);
    return NULL;
}

/* After the opening quote. */
static PyObject *
parse_string(Parser *p)
{
    const unsigned char *start = p->s, *s = start;
    unsigned char high = 0;
    while (s < p->end) {
        unsigned char c = *s;
        if (c == '"') {
            Py_ssize_t len = s - start;
            p->s = s + 1;
            if (high & 0x80) {
                return PyUnicode_DecodeUTF8((const char *)start, len, NULL);
            }
            return ascii_string(start, len);
        }
        if (c == '\\') {
            return escaped_string(p, start);
        }
        if (c < 0x20) {
            return NULL;
        }
        high |= c;
        s++;
    }
    return NULL;
}

static PyObject *
parse_number(Parser *p)
{
    const unsigned char *start = p->s, *s = start, *end = p->end;
    int is_float = 0;
    if (*s == '-') {
        s++;
    }
    if (s >= end) {
        return NULL;
    }
    if (*s == '0') {
        s++;
    } else if (*s >= '1' && *s <= '9') {
        while (s < end && *s >= '0' && *s <= '9') s++;
    } else {
        return NULL;
    }
    if (s < end && *s == '.') {
        s++;
        if (!(s < end && *s >= '0' && *s <= '9')) return NULL;
        while (s < end && *s >= '0' && *s <= '9') s++;
        is_float = 1;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-')) s++;
        if (!(s < end && *s >= '0' && *s <= '9')) return NULL;
        while (s < end && *s >= '0' && *s <= '9') s++;
        is_float = 1;
    }
    Py_ssize_t len = s - start;
    p->s = s;
    if (!is_float) {
        const unsigned char *digits = start + (*start == '-');
        Py_ssize_t count = s - digits;
        if (count <= 18) {
            long long value = 0;
            for (const unsigned char *d = digits; d < s; d++) value = value * 10 + (*d - '0');
            if (*start == '-') value = -value;
            if (value >= 0 && value < 10) {
                Py_INCREF(small_ints[value]);
                return small_ints[value];
            }
            return PyLong_FromLongLong(value);
        }
    }
    char local[64];
    char *text = len < (Py_ssize_t)sizeof(local) ? local : PyMem_Malloc(len + 1);
    if (text == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(text, start, len);
    text[len] = '\0';
    PyObject *out;
    if (is_float) {
        double value = PyOS_string_to_double(text, NULL, NULL);
        if (value == -1.0 && PyErr_Occurred()) {
            out = NULL;
        } else if (!isfinite(value)) {
            out = NULL; /* beyond a 64-bit float: refused by the Python path, with its message */
        } else {
            out = PyFloat_FromDouble(value);
        }
    } else {
        out = PyLong_FromString(text, NULL, 10); /* the digit limit of int() applies, as in json */
    }
    if (text != local) {
        PyMem_Free(text);
    }
    return out;
}

static PyObject *parse_value(Parser *p);

static PyObject *
parse_object(Parser *p)
{
    PyObject *obj = PyDict_New();
    if (obj == NULL) {
        return NULL;
    }
    skip_space(p);
    if (p->s < p->end && *p->s == '}') {
        p->s++;
        return obj;
    }
    for (;;) {
        if (p->s >= p->end || *p->s != '"') goto fail;
        p->s++;
        PyObject *key = parse_string(p);
        if (key == NULL) goto fail;
        skip_space(p);
        if (p->s >= p->end || *p->s != ':') {
            Py_DECREF(key);
            goto fail;
        }
        p->s++;
        PyObject *value = parse_value(p);
        if (value == NULL) {
            Py_DECREF(key);
            goto fail;
        }
        Py_ssize_t before = PyDict_GET_SIZE(obj);
        int failed = PyDict_SetItem(obj, key, value);
        Py_DECREF(key);
        Py_DECREF(value);
        if (failed < 0 || PyDict_GET_SIZE(obj) == before) goto fail; /* a member named twice */
        skip_space(p);
        if (p->s >= p->end) goto fail;
        if (*p->s == ',') {
            p->s++;
            skip_space(p);
            continue;
        }
        if (*p->s == '}') {
            p->s++;
            return obj;
        }
        goto fail;
    }
fail:
    Py_DECREF(obj);
    return NULL;
}

static PyObject *
parse_array(Parser *p)
{
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    skip_space(p);
    if (p->s < p->end && *p->s == ']') {
        p->s++;
        return list;
    }
    for (;;) {
        PyObject *value = parse_value(p);
        if (value == NULL) goto fail;
        int failed = PyList_Append(list, value);
        Py_DECREF(value);
        if (failed < 0) goto fail;
        skip_space(p);
        if (p->s >= p->end) goto fail;
        if (*p->s == ',') {
            p->s++;
            continue;
        }
        if (*p->s == ']') {
            p->s++;
            return list;
        }
        goto fail;
    }
fail:
    Py_DECREF(list);
    return NULL;
}

static int
literal(Parser *p, const char *word, Py_ssize_t len)
{
    if (p->end - p->s >= len && memcmp(p->s, word, len) == 0) {
        p->s += len;
        return 1;
    }
    return 0;
}

static PyObject *
parse_value(Parser *p)
{
    skip_space(p);
    if (p->s >= p->end) {
        return NULL;
    }
    unsigned char c = *p->s;
    PyObject *out;
    switch (c) {
    case '"':
        p->s++;
        return parse_string(p);
    case '{':
    case '[':
        if (++p->depth > p->max_depth || ++p->containers > p->max_containers) {
            return NULL;
        }
        p->s++;
        out = c == '{' ? parse_object(p) : parse_array(p);
        p->depth--;
        return out;
    case 't':
        if (literal(p, "true", 4)) Py_RETURN_TRUE;
        return NULL;
    case 'f':
        if (literal(p, "false", 5)) Py_RETURN_FALSE;
        return NULL;
    case 'n':
        if (literal(p, "null", 4)) Py_RETURN_NONE;
        return NULL;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            return parse_number(p);
        }
        return NULL; /* NaN, Infinity and anything not JSON: the Python path says what is wrong */
    }
}


/* JSON text (exact bytes or str) to a value: a new reference, or NULL (no error set) to fall back. */
static PyObject *
parse_text(PyObject *raw, Py_ssize_t max_depth, Py_ssize_t max_containers)
{
    const char *text;
    Py_ssize_t size;
    PyObject *encoded = NULL;
    if (PyBytes_CheckExact(raw)) {
        text = PyBytes_AS_STRING(raw);
        size = PyBytes_GET_SIZE(raw);
    } else if (PyUnicode_CheckExact(raw)) {
        if (PyUnicode_IS_ASCII(raw)) {
            text = (const char *)PyUnicode_1BYTE_DATA(raw);
            size = PyUnicode_GET_LENGTH(raw);
        } else {
            encoded = PyUnicode_AsUTF8String(raw); /* fails for lone surrogates: Python path */
            if (encoded == NULL) {
                goto fallback;
            }
            text = PyBytes_AS_STRING(encoded);
            size = PyBytes_GET_SIZE(encoded);
        }
    } else {
        goto fallback;
    }
    Parser p = {
        (const unsigned char *)text, (const unsigned char *)text + size, 0,
        C_DEPTH(max_depth), 0, max_containers,
    };
    PyObject *value = parse_value(&p);
    if (value == NULL) {
        goto fallback;
    }
    skip_space(&p);
    if (p.s != p.end) {
        Py_DECREF(value);
        goto fallback;
    }
    Py_XDECREF(encoded);
    return value;
fallback:
    Py_XDECREF(encoded);
    PyErr_Clear();
    return NULL;
}

static PyObject *
loads(PyObject *self, PyObject *args)
{
    PyObject *raw;
    Py_ssize_t max_depth, max_containers;
    if (!PyArg_ParseTuple(args, "OO&O&:loads", &raw, bounded, &max_depth, bounded, &max_containers)) {
        return NULL;
    }
    PyObject *value = parse_text(raw, max_depth, max_containers);
    if (value == NULL) {
        RETURN_FALLBACK;
    }
    return value;
}

/* -- RFC 3339 timestamps ------------------------------------------------------------------------------ */

static int
read_digits(const unsigned char *s, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        value = value * 10 + (s[i] - '0');
    }
    return value;
}

/* RFC 3339 date-time (the pattern of _timestamp._RFC3339, matched in full) to a Timestamp; NULL for
 * anything else, with or without an error set. */
static PyObject *
stamp_from_text(const unsigned char *s, Py_ssize_t len)
{
    if (!stamp_ready || len < 20) {
        return NULL;
    }
    int year = read_digits(s, 4), month = read_digits(s + 5, 2), day = read_digits(s + 8, 2);
    int hour = read_digits(s + 11, 2), minute = read_digits(s + 14, 2), second = read_digits(s + 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
        return NULL;
    }
    Py_ssize_t i = 19;
    long nanos = 0;
    if (s[i] == '.') {
        Py_ssize_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (i - start < 9) {
                nanos = nanos * 10 + (s[i] - '0');
            } else if (s[i] != '0') {
                return NULL; /* more than nanosecond precision */
            }
            i++;
        }
        Py_ssize_t count = i - start;
        if (count == 0) {
            return NULL;
        }
        for (Py_ssize_t k = count; k < 9; k++) {
            nanos *= 10;
        }
    }
    PyObject *zone;
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        zone = Py_NewRef(cfg_utc);
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int hours = read_digits(s + i + 1, 2), minutes = read_digits(s + i + 4, 2);
        if (hours < 0 || minutes < 0 || hours > 23 || minutes > 59) {
            return NULL;
        }
        int offset = hours * 60 + minutes;
        PyObject *key = PyLong_FromLong(s[i] == '-' ? -offset : offset);
        if (key == NULL) {
            return NULL;
        }
        zone = PyObject_GetItem(cfg_zones, key);
        Py_DECREF(key);
        if (zone == NULL) {
            return NULL;
        }
    } else {
        return NULL;
    }
    PyObject *stamp = PyDateTimeAPI->DateTime_FromDateAndTime(
        year, month, day, hour, minute, second, (int)(nanos / 1000), zone, (PyTypeObject *)cfg_stamp_type);
    Py_DECREF(zone);
    if (stamp == NULL) {
        return NULL; /* day 31 of a 30-day month, hour 24, a leap second */
    }
    PyObject *rest = PyLong_FromLong(nanos % 1000);
    if (rest == NULL) {
        Py_DECREF(stamp);
        return NULL;
    }
    set_slot(stamp, stamp_nano_off, rest);
    Py_DECREF(rest);
    /* It holds an int and a timezone: in no cycle, so left to reference counting (see build_event). */
    if (PyObject_IS_GC(stamp)) PyObject_GC_UnTrack(stamp);
    return stamp;
}

static PyObject *
parse_timestamp(PyObject *self, PyObject *text)
{
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text)) {
        RETURN_FALLBACK;
    }
    PyObject *stamp = stamp_from_text(PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text));
    if (stamp == NULL) {
        PyErr_Clear();
        RETURN_FALLBACK;
    }
    return stamp;
}

static PyObject *zone_suffixes;       /* datetime.timezone -> "Z" or "+HH:MM" (bounded) */

/* The RFC 3339 offset text of a fixed-offset zone (a datetime.timezone of whole minutes): a borrowed
 * str, or NULL to fall back. */
static PyObject *
zone_suffix(PyObject *zone)
{
    PyObject *found = PyDict_GetItemWithError(zone_suffixes, zone);
    if (found != NULL || PyErr_Occurred()) {
        return found;
    }
    if (Py_TYPE(zone) != Py_TYPE(PyDateTime_TimeZone_UTC)) {
        return NULL; /* another tzinfo: its offset may depend on the date */
    }
    PyObject *offset = PyObject_CallMethod(zone, "utcoffset", "O", Py_None);
    if (offset == NULL || !PyDelta_Check(offset)) {
        Py_XDECREF(offset);
        return NULL;
    }
    long seconds = PyDateTime_DELTA_GET_DAYS(offset) * 86400L + PyDateTime_DELTA_GET_SECONDS(offset);
    int micro = PyDateTime_DELTA_GET_MICROSECONDS(offset);
    Py_DECREF(offset);
    if (micro != 0 || seconds % 60 != 0) {
        return NULL;
    }
    long minutes = seconds / 60;
    char text[32];
    if (minutes == 0) {
        strcpy(text, "Z");
    } else {
        long magnitude = minutes < 0 ? -minutes : minutes;
        snprintf(text, sizeof(text), "%c%02ld:%02ld", minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
    }
    PyObject *suffix = PyUnicode_FromString(text);
    if (suffix == NULL) {
        return NULL;
    }
    if (PyDict_GET_SIZE(zone_suffixes) < 4096 && PyDict_SetItem(zone_suffixes, zone, suffix) < 0) {
        Py_DECREF(suffix);
        return NULL;
    }
    Py_DECREF(suffix); /* the dict holds it; when full, it is made again each time (still borrowed below) */
    return PyDict_GET_SIZE(zone_suffixes) < 4096 ? PyDict_GetItemWithError(zone_suffixes, zone) : NULL;
}

static PyObject *
format_timestamp(PyObject *self, PyObject *stamp)
{
    if (!stamp_ready || (PyObject *)Py_TYPE(stamp) != cfg_stamp_type) {
        RETURN_FALLBACK;
    }
    PyDateTime_DateTime *dt = (PyDateTime_DateTime *)stamp;
    if (!dt->hastzinfo) {
        RETURN_FALLBACK;
    }
    const char *suffix = "Z";
    Py_ssize_t suffix_length = 1;
    if (dt->tzinfo != cfg_utc) {
        PyObject *text = zone_suffix(dt->tzinfo);
        if (text == NULL) {
            PyErr_Clear();
            RETURN_FALLBACK;
        }
        suffix = (const char *)PyUnicode_1BYTE_DATA(text);
        suffix_length = PyUnicode_GET_LENGTH(text);
    }
    PyObject *rest = get_slot(stamp, stamp_nano_off);
    if (rest == NULL || !PyLong_CheckExact(rest)) {
        RETURN_FALLBACK;
    }
    long below = PyLong_AsLong(rest);
    if (below < 0 || below > 999) {
        PyErr_Clear();
        RETURN_FALLBACK;
    }
    long nanos = PyDateTime_DATE_GET_MICROSECOND(stamp) * 1000L + below;
    char text[48];
    int n = snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d", PyDateTime_GET_YEAR(stamp),
                     PyDateTime_GET_MONTH(stamp), PyDateTime_GET_DAY(stamp), PyDateTime_DATE_GET_HOUR(stamp),
                     PyDateTime_DATE_GET_MINUTE(stamp), PyDateTime_DATE_GET_SECOND(stamp));
    if (nanos == 0) {
        /* no fraction */
    } else if (nanos % 1000000 == 0) {
        n += snprintf(text + n, sizeof(text) - n, ".%03ld", nanos / 1000000);
    } else if (nanos % 1000 == 0) {
        n += snprintf(text + n, sizeof(text) - n, ".%06ld", nanos / 1000);
    } else {
        n += snprintf(text + n, sizeof(text) - n, ".%09ld", nanos);
    }
    memcpy(text + n, suffix, suffix_length);
    return PyUnicode_FromStringAndSize(text, n + suffix_length);
}

/* -- HTTP headers ---------------------------------------------------------------------------------------- */

static PyObject *s_content_type;

static PyObject *read_headers_dict(PyObject *headers, Py_ssize_t max_length);

static PyObject *
read_headers(PyObject *self, PyObject *args)
{
    PyObject *headers;
    Py_ssize_t max_length;
    if (!PyArg_ParseTuple(args, "OO&:read_headers", &headers, bounded, &max_length)) {
        return NULL;
    }
    return read_headers_dict(headers, max_length);
}

static PyObject *
read_headers_dict(PyObject *headers, Py_ssize_t max_length)
{
    if (!PyDict_CheckExact(headers)) {
        RETURN_FALLBACK;
    }
    PyObject *attributes = PyDict_New();
    if (attributes == NULL) {
        return NULL;
    }
    PyObject *content_type = Py_None, *key, *value;
    Py_ssize_t pos = 0, total = 0;
    int cased = 0;
    while (PyDict_Next(headers, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key) || !PyUnicode_IS_ASCII(key)) {
            goto fallback;
        }
        const unsigned char *name = PyUnicode_1BYTE_DATA(key);
        Py_ssize_t len = PyUnicode_GET_LENGTH(key);
        for (Py_ssize_t i = 0; i < len; i++) {
            if (name[i] >= 'A' && name[i] <= 'Z') {
                goto fallback; /* names that may differ only in case: the general path */
            }
            cased |= name[i] >= 'a' && name[i] <= 'z';
        }
        if (len >= 3 && name[0] == 'c' && name[1] == 'e' && name[2] == '-') {
            if (!PyUnicode_CheckExact(value)) {
                goto fallback;
            }
            Py_ssize_t size = PyUnicode_GET_LENGTH(value);
            total += size;
            if (total > max_length || PyUnicode_FindChar(value, '%', 0, size, 1) != -1 ||
                (size > 0 && PyUnicode_READ_CHAR(value, 0) == '"')) {
                goto fallback; /* too long, or to be decoded: the Python path */
            }
            PyObject *attribute = ascii_string(name + 3, len - 3);
            if (attribute == NULL) {
                goto fallback;
            }
            int failed = PyDict_SetItem(attributes, attribute, value);
            Py_DECREF(attribute);
            if (failed < 0) {
                goto fallback;
            }
        } else if (len == 12 && memcmp(name, "content-type", 12) == 0) {
            content_type = value;
        }
    }
    if (!cased) {
        goto fallback;
    }
    if (content_type != Py_None && (!PyUnicode_CheckExact(content_type) || PyUnicode_GET_LENGTH(content_type) > max_length)) {
        goto fallback;
    }
    PyObject *pair = PyTuple_Pack(2, attributes, content_type);
    Py_DECREF(attributes);
    return pair;
fallback:
    Py_DECREF(attributes);
    PyErr_Clear();
    RETURN_FALLBACK;
}

/* -- headers as (name, bytes) pairs (Kafka) ------------------------------------------------------------------ */

/* A header value's text: short ASCII from the string cache, the rest decoded; NULL (error cleared by
 * the caller) for bytes that are not UTF-8. */
static PyObject *
header_text(PyObject *raw)
{
    const unsigned char *start = (const unsigned char *)PyBytes_AS_STRING(raw);
    Py_ssize_t len = PyBytes_GET_SIZE(raw);
    for (Py_ssize_t i = 0; i < len; i++) {
        if (start[i] >= 0x80) {
            return PyUnicode_DecodeUTF8((const char *)start, len, "strict");
        }
    }
    return ascii_string(start, len);
}

/* _headers.read_header_pairs for a list or tuple of (str, bytes) tuples whose names are ASCII without
 * capitals, each value within max_length and UTF-8, no name repeated: (attributes, content_type).
 * Anything else is the Python path's, which reports what is wrong. */
static PyObject *
read_pairs(PyObject *self, PyObject *args)
{
    PyObject *pairs, *prefix;
    Py_ssize_t max_count, max_length;
    if (!PyArg_ParseTuple(args, "OUO&O&:read_pairs", &pairs, &prefix, bounded, &max_count, bounded, &max_length)) {
        return NULL;
    }
    /* A list subclass (the Kafka plugin's KafkaHeaders) walks its items as a list does, unless it says otherwise. */
    int listed = PyList_Check(pairs) && Py_TYPE(pairs)->tp_iter == PyList_Type.tp_iter;
    if (!(listed || PyTuple_CheckExact(pairs)) || !PyUnicode_IS_ASCII(prefix)) {
        RETURN_FALLBACK;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(pairs);
    if (count > max_count) {
        RETURN_FALLBACK;
    }
    const unsigned char *want = PyUnicode_1BYTE_DATA(prefix);
    Py_ssize_t want_len = PyUnicode_GET_LENGTH(prefix);
    PyObject *attributes = PyDict_New();
    if (attributes == NULL) {
        return NULL;
    }
    PyObject *content_type = NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        /* No Python code runs in this loop (str keys, bytes values), so the list cannot change under it. */
        PyObject *pair = PySequence_Fast_GET_ITEM(pairs, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
            goto fallback;
        }
        PyObject *key = PyTuple_GET_ITEM(pair, 0), *raw = PyTuple_GET_ITEM(pair, 1);
        if (!PyUnicode_CheckExact(key) || !PyUnicode_IS_ASCII(key)) {
            goto fallback;
        }
        const unsigned char *name = PyUnicode_1BYTE_DATA(key);
        Py_ssize_t len = PyUnicode_GET_LENGTH(key);
        for (Py_ssize_t j = 0; j < len; j++) {
            if (name[j] >= 'A' && name[j] <= 'Z') {
                goto fallback; /* names that may differ only in case: the general path */
            }
        }
        int is_attribute = len >= want_len && memcmp(name, want, want_len) == 0;
        if (!is_attribute && !(len == 12 && memcmp(name, "content-type", 12) == 0)) {
            continue; /* not a header CloudEvents reads */
        }
        if (!PyBytes_CheckExact(raw) || PyBytes_GET_SIZE(raw) > max_length) {
            goto fallback;
        }
        PyObject *text = header_text(raw);
        if (text == NULL) {
            goto fallback;
        }
        if (!is_attribute) {
            if (content_type != NULL) {
                Py_DECREF(text);
                goto fallback; /* repeated: reported by the Python path */
            }
            content_type = text;
            continue;
        }
        PyObject *attribute = ascii_string(name + want_len, len - want_len);
        if (attribute == NULL) {
            Py_DECREF(text);
            goto fallback;
        }
        int seen = PyDict_Contains(attributes, attribute);
        int failed = seen != 0 || PyDict_SetItem(attributes, attribute, text) < 0;
        Py_DECREF(attribute);
        Py_DECREF(text);
        if (failed) {
            goto fallback;
        }
    }
    PyObject *result = PyTuple_Pack(2, attributes, content_type != NULL ? content_type : Py_None);
    Py_DECREF(attributes);
    Py_XDECREF(content_type);
    return result;
fallback:
    Py_DECREF(attributes);
    Py_XDECREF(content_type);
    PyErr_Clear();
    RETURN_FALLBACK;
}

/* -- data given in code ------------------------------------------------------------------------------------ */

/* Whether a str is valid Unicode (has a UTF-8 form): no code point in the surrogate range. */
static int
no_surrogates(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    if (kind == PyUnicode_1BYTE_KIND) {
        return 1;
    }
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(text); i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0xD800 && c <= 0xDFFF) {
            return 0;
        }
    }
    return 1;
}

/* _frozen.check_data's copy for a JSON value of exact types: a new dict/list tree (atoms shared), or
 * NULL for anything else (subclasses, tuples, NaN, lone surrogates, keys that are not str, nesting
 * at max_depth), which the Python function handles or reports. */
static PyObject *
copy_data(PyObject *value, int depth, int max_depth)
{
    if (PyUnicode_CheckExact(value)) {
        return no_surrogates(value) ? Py_NewRef(value) : NULL;
    }
    if (value == Py_None || PyBool_Check(value) || PyLong_CheckExact(value)) {
        return Py_NewRef(value);
    }
    if (PyFloat_CheckExact(value)) {
        return isfinite(PyFloat_AS_DOUBLE(value)) ? Py_NewRef(value) : NULL;
    }
    if (depth >= max_depth) {
        return NULL;
    }
    if (PyDict_CheckExact(value)) {
        PyObject *copy = PyDict_New(), *key, *item;
        Py_ssize_t pos = 0;
        while (copy != NULL && PyDict_Next(value, &pos, &key, &item)) {
            if (!PyUnicode_CheckExact(key) || !no_surrogates(key)) {
                Py_CLEAR(copy);
                break;
            }
            PyObject *checked = copy_data(item, depth + 1, max_depth);
            if (checked == NULL || PyDict_SetItem(copy, key, checked) < 0) {
                Py_XDECREF(checked);
                Py_CLEAR(copy);
                break;
            }
            Py_DECREF(checked);
        }
        return copy;
    }
    if (PyList_CheckExact(value)) {
        Py_ssize_t n = PyList_GET_SIZE(value);
        PyObject *copy = PyList_New(n);
        for (Py_ssize_t i = 0; copy != NULL && i < n; i++) {
            if (PyList_GET_SIZE(value) != n) { /* changed under us: the Python path */
                Py_CLEAR(copy);
                break;
            }
            PyObject *checked = copy_data(PyList_GET_ITEM(value, i), depth + 1, max_depth);
            if (checked == NULL) {
                Py_CLEAR(copy);
                break;
            }
            PyList_SET_ITEM(copy, i, checked);
        }
        return copy;
    }
    return NULL;
}

static PyObject *
check_data(PyObject *self, PyObject *args)
{
    PyObject *value;
    Py_ssize_t max_depth;
    if (!PyArg_ParseTuple(args, "OO&:check_data", &value, bounded, &max_depth)) {
        return NULL;
    }
    int limit = C_DEPTH(max_depth);
    PyObject *copy = copy_data(value, 0, limit);
    if (copy == NULL) {
        PyErr_Clear();
        RETURN_FALLBACK;
    }
    return copy;
}

/* -- the record builder ---------------------------------------------------------------------------------- */

/* A valid String that needs no further check: non-empty printable ASCII. */
static inline int
is_plain(PyObject *value, int may_be_empty)
{
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) {
        return 0;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(value);
    if (len == 0) {
        return may_be_empty;
    }
    const unsigned char *s = PyUnicode_1BYTE_DATA(value);
    for (Py_ssize_t i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static int
is_extension_name(PyObject *name)
{
    if (!PyUnicode_CheckExact(name) || !PyUnicode_IS_ASCII(name)) {
        return 0;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(name);
    const unsigned char *s = PyUnicode_1BYTE_DATA(name);
    if (len == 0) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) {
            return 0;
        }
    }
    return 1;
}

static inline int
is_utc_stamp(PyObject *value)
{
    return stamp_ready && (PyObject *)Py_TYPE(value) == cfg_stamp_type && ((PyDateTime_DateTime *)value)->hastzinfo &&
           ((PyDateTime_DateTime *)value)->tzinfo == cfg_utc;
}

static int
is_extension_value(PyObject *value)
{
    if (PyUnicode_CheckExact(value)) {
        return is_plain(value, 1);
    }
    if (PyBool_Check(value)) {
        return 1;
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        return !overflow && number >= -2147483648LL && number <= 2147483647LL;
    }
    return is_utc_stamp(value);
}

/* A value through a Memo (a dict whose __missing__ computes and checks): new reference, or NULL. */
static PyObject *
through_memo(PyObject *memo, PyObject *key)
{
    PyObject *found = PyDict_GetItemWithError(memo, key);
    if (found != NULL) {
        return Py_NewRef(found);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    return PyObject_GetItem(memo, key);
}

/* The record builder. ``given_type``, when not NULL, is the datacontenttype (None for none) that a
 * binding read from its own content-type field; the attributes then must not name one. */
static PyObject *
build_event(PyObject *event, PyObject *attributes, PyObject *data, int trusted, int generate_id, int document,
            PyObject *given_type)
{
    PyObject *event_id = NULL, *source = NULL, *event_type = NULL, *time = NULL, *content_type = NULL;
    PyObject *extensions = NULL, *ext_object = NULL, *checked_data = NULL, *made = NULL;
    PyObject *schema = NULL, *decoded = NULL, *encoded = NULL;
    PyObject *specversion, *subject = Py_None, *value, *key;
    int base64_data = 0; /* spec 0.3: datacontentencoding "base64" marks data as Base64 text */

    if (!ev_ready || !cfg_sources || !cfg_media_types || !cfg_is_json || !cfg_check_data || !cfg_to_timestamp ||
        !cfg_new_id || !cfg_ext_type || !PyDict_CheckExact(attributes) ||
        (event != Py_None && (PyObject *)Py_TYPE(event) != cfg_event_type)) {
        goto fallback;
    }

    specversion = PyDict_GetItemWithError(attributes, s_specversion);
    if (specversion == NULL || specversion == Py_None) {
        if (!generate_id) goto fallback;
        specversion = s_v10;
    } else if (!PyUnicode_CheckExact(specversion)) {
        goto fallback;
    } else if (PyUnicode_Compare(specversion, s_v10) == 0) {
        specversion = s_v10;
    } else if (PyUnicode_Compare(specversion, s_v03) == 0) {
        specversion = s_v03;
    } else {
        goto fallback;
    }

    value = PyDict_GetItemWithError(attributes, s_id);
    if (value == NULL || value == Py_None) {
        if (!generate_id) goto fallback;
        event_id = PyObject_CallNoArgs(cfg_new_id);
        if (event_id == NULL) goto fallback;
    } else if (is_plain(value, 0)) {
        event_id = Py_NewRef(value);
    } else {
        goto fallback;
    }

    value = PyDict_GetItemWithError(attributes, s_source);
    if (value == NULL || !PyUnicode_CheckExact(value)) goto fallback;
    source = through_memo(cfg_sources, value);
    if (source == NULL) goto fallback;

    value = PyDict_GetItemWithError(attributes, s_type);
    if (value == NULL || !is_plain(value, 0)) goto fallback;
    event_type = PyDict_SetDefault(types_seen, value, value);
    if (event_type == NULL) goto fallback;
    Py_INCREF(event_type);
    if (PyDict_GET_SIZE(types_seen) >= TYPES_SEEN_MAX) {
        PyDict_Clear(types_seen);
    }

    value = PyDict_GetItemWithError(attributes, s_time);
    if (value == NULL || value == Py_None) {
        time = Py_NewRef(Py_None);
    } else if (PyUnicode_CheckExact(value)) {
        if (!PyUnicode_IS_ASCII(value)) goto fallback;
        time = stamp_from_text(PyUnicode_1BYTE_DATA(value), PyUnicode_GET_LENGTH(value));
        if (time == NULL) goto fallback;
    } else if (is_utc_stamp(value)) {
        time = Py_NewRef(value);
    } else if (stamp_ready && PyDateTime_CheckExact(value) && ((PyDateTime_DateTime *)value)->hastzinfo &&
               ((PyDateTime_DateTime *)value)->tzinfo == cfg_utc) {
        /* an aware datetime in UTC: the same fields as a Timestamp (to_timestamp's common case) */
        time = PyDateTimeAPI->DateTime_FromDateAndTime(
            PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value), PyDateTime_GET_DAY(value),
            PyDateTime_DATE_GET_HOUR(value), PyDateTime_DATE_GET_MINUTE(value), PyDateTime_DATE_GET_SECOND(value),
            PyDateTime_DATE_GET_MICROSECOND(value), cfg_utc, (PyTypeObject *)cfg_stamp_type);
        if (time == NULL) goto fallback;
        set_slot(time, stamp_nano_off, small_ints[0]);
        if (PyObject_IS_GC(time)) PyObject_GC_UnTrack(time);
    } else {
        time = PyObject_CallFunctionObjArgs(cfg_to_timestamp, value, s_time, NULL);
        if (time == NULL) goto fallback;
    }

    value = PyDict_GetItemWithError(attributes, s_datacontenttype);
    if (given_type != NULL) {
        if (value != NULL) goto fallback;
        value = given_type;
    }
    if (value == NULL || value == Py_None) {
        content_type = NULL;
    } else if (PyUnicode_CheckExact(value)) {
        content_type = through_memo(cfg_media_types, value);
        if (content_type == NULL) goto fallback;
    } else {
        goto fallback;
    }

    Py_ssize_t pos = 0;
    while (PyDict_Next(attributes, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) goto fallback;
        if (value == Py_None) continue; /* absent, as the JSON format writes it */
        PyObject *code = PyDict_GetItemWithError(special_names, key);
        if (code != NULL) {
            long which = PyLong_AsLong(code);
            if (which == N_CORE) continue;
            if (which == N_SUBJECT && is_plain(value, 0)) {
                subject = value;
                continue;
            }
            if (which == N_DATA && document) {
                continue; /* a JSON-format document's data member: given as data */
            }
            if (which == N_SCHEMA && specversion == s_v10 && cfg_schemas && PyUnicode_CheckExact(value)) {
                schema = through_memo(cfg_schemas, value);
                if (schema == NULL) goto fallback;
                continue;
            }
            if (which == N_BASE64 && document && specversion == s_v10 && cfg_decode_base64 && data == Py_None) {
                encoded = value; /* decoded below, once the attributes are known to be taken */
                continue;
            }
            if (which == N_SCHEMAURL && specversion == s_v03 && cfg_schema_refs && PyUnicode_CheckExact(value)) {
                schema = through_memo(cfg_schema_refs, value);
                if (schema == NULL) goto fallback;
                continue;
            }
            if (which == N_ENCODING && document && specversion == s_v03 && cfg_decode_base64 &&
                PyUnicode_CheckExact(value) && PyUnicode_CompareWithASCIIString(value, "base64") == 0) {
                base64_data = 1; /* applied below, as _binding.event_from_members applies it */
                continue;
            }
            goto fallback; /* dataschema, schemaurl, datacontentencoding, data: the Python path */
        }
        if (PyErr_Occurred() || !is_extension_name(key) || !is_extension_value(value)) goto fallback;
        if (extensions == NULL && (extensions = PyDict_New()) == NULL) goto fallback;
        if (PyDict_SetItem(extensions, key, value) < 0) goto fallback;
    }

    if (encoded != NULL) {
        decoded = PyObject_CallFunction(cfg_decode_base64, "Os", encoded, "event member 'data_base64'");
        if (decoded == NULL || !PyBytes_CheckExact(decoded)) goto fallback;
        data = decoded;
    } else if (base64_data && data != Py_None) {
        if (!PyUnicode_CheckExact(data)) goto fallback;
        decoded = PyObject_CallFunction(cfg_decode_base64, "Os", data, "member 'data' (datacontentencoding base64)");
        if (decoded == NULL || !PyBytes_CheckExact(decoded)) goto fallback;
        data = decoded;
    }
    if (data == Py_None || PyBytes_CheckExact(data)) {
        checked_data = Py_NewRef(data);
    } else if (PyUnicode_CheckExact(data)) {
        if (!trusted && !PyUnicode_IS_ASCII(data)) goto fallback;
        checked_data = Py_NewRef(data);
        if (content_type == NULL) content_type = Py_NewRef(s_app_json);
    } else if (PyDict_CheckExact(data) || PyList_CheckExact(data) || PyLong_CheckExact(data) ||
               PyFloat_CheckExact(data) || PyBool_Check(data)) {
        if (trusted) {
            checked_data = Py_NewRef(data);
        } else {
            checked_data = copy_data(data, 0, 256 < MAX_C_DEPTH ? 256 : MAX_C_DEPTH); /* check_data's default */
            if (checked_data == NULL) {
                PyErr_Clear();
                checked_data = PyObject_CallOneArg(cfg_check_data, data);
            }
            if (checked_data == NULL) goto fallback;
        }
        if (content_type == NULL) {
            content_type = Py_NewRef(s_app_json);
        } else {
            PyObject *is_json = through_memo(cfg_is_json, content_type);
            if (is_json == NULL) goto fallback;
            int yes = is_json == Py_True;
            Py_DECREF(is_json);
            if (!yes) goto fallback;
        }
    } else {
        goto fallback; /* typed data, bytearray, memoryview, tuples, subclasses */
    }

    if (extensions != NULL) {
        ext_object = ((PyTypeObject *)cfg_ext_type)->tp_alloc((PyTypeObject *)cfg_ext_type, 0);
        if (ext_object == NULL) goto fallback;
        set_slot(ext_object, ext_items_off, extensions);
        if (PyObject_IS_GC(ext_object)) PyObject_GC_UnTrack(ext_object); /* holds only atomic values */
    } else {
        ext_object = Py_NewRef(cfg_no_extensions);
    }

    if (event == Py_None) {
        made = ((PyTypeObject *)cfg_event_type)->tp_alloc((PyTypeObject *)cfg_event_type, 0);
        if (made == NULL) goto fallback;
        event = made;
    } else {
        made = Py_NewRef(event);
    }
    set_slot(event, ev_off[0], event_id);
    set_slot(event, ev_off[1], source);
    set_slot(event, ev_off[2], event_type);
    set_slot(event, ev_off[3], specversion);
    set_slot(event, ev_off[4], content_type != NULL ? content_type : Py_None);
    set_slot(event, ev_off[5], schema != NULL ? schema : Py_None);
    set_slot(event, ev_off[6], subject);
    set_slot(event, ev_off[7], time);
    set_slot(event, ev_off[8], ext_object);
    set_slot(event, ev_off[9], checked_data);
    set_slot(event, ev_off[10], Py_None);
    /* Nothing the record holds can refer back to it (strings, a Timestamp, extensions of atomic
     * values, JSON data that only it holds), so it can be in no reference cycle: the collector need
     * not visit it, which keeps a program holding a million events out of long collections. */
    if (PyObject_IS_GC(event)) PyObject_GC_UnTrack(event);

    Py_XDECREF(event_id);
    Py_XDECREF(source);
    Py_XDECREF(event_type);
    Py_XDECREF(time);
    Py_XDECREF(content_type);
    Py_XDECREF(extensions);
    Py_XDECREF(ext_object);
    Py_XDECREF(checked_data);
    Py_XDECREF(schema);
    Py_XDECREF(decoded);
    return made;

fallback:
    PyErr_Clear();
    Py_XDECREF(event_id);
    Py_XDECREF(source);
    Py_XDECREF(event_type);
    Py_XDECREF(time);
    Py_XDECREF(content_type);
    Py_XDECREF(extensions);
    Py_XDECREF(ext_object);
    Py_XDECREF(checked_data);
    Py_XDECREF(schema);
    Py_XDECREF(decoded);
    Py_XDECREF(made);
    RETURN_FALLBACK;
}

static PyObject *
build(PyObject *self, PyObject *args)
{
    PyObject *event, *attributes, *data;
    int trusted, generate_id, document = 0;
    if (!PyArg_ParseTuple(args, "OOOpp|p:build", &event, &attributes, &data, &trusted, &generate_id, &document)) {
        return NULL;
    }
    return build_event(event, attributes, data, trusted, generate_id, document, NULL);
}

/* The JSON event format's decoders (_json_format.decode_event and decode_batch) on their common path. */
static PyObject *
decode_documents(PyObject *self, PyObject *args)
{
    PyObject *raw;
    Py_ssize_t max_bytes, max_depth, max_containers, max_attributes, max_batch;
    int batch;
    if (!PyArg_ParseTuple(args, "OO&pO&O&O&O&:decode_documents", &raw, bounded, &max_bytes, &batch, bounded,
                          &max_depth, bounded, &max_containers, bounded, &max_attributes, bounded, &max_batch)) {
        return NULL;
    }
    /* the size as Limits counts it: bytes, or characters of a str */
    Py_ssize_t size = PyBytes_CheckExact(raw) ? PyBytes_GET_SIZE(raw) : PyUnicode_CheckExact(raw) ? PyUnicode_GET_LENGTH(raw) : -1;
    if (size < 0 || size > max_bytes) {
        RETURN_FALLBACK;
    }
    PyObject *value = parse_text(raw, max_depth, max_containers);
    if (value == NULL) {
        RETURN_FALLBACK;
    }
    if (!batch) {
        PyObject *event = FALLBACK;
        Py_INCREF(event);
        if (PyDict_CheckExact(value) && PyDict_GET_SIZE(value) <= max_attributes) {
            PyObject *data = PyDict_GetItemWithError(value, s_data);
            Py_DECREF(event);
            event = build_event(Py_None, value, data != NULL ? data : Py_None, 1, 0, 1, NULL);
        }
        Py_DECREF(value);
        return event;
    }
    if (!PyList_CheckExact(value) || PyList_GET_SIZE(value) > max_batch) {
        Py_DECREF(value);
        RETURN_FALLBACK;
    }
    Py_ssize_t count = PyList_GET_SIZE(value);
    PyObject *events = PyList_New(count);
    for (Py_ssize_t i = 0; events != NULL && i < count; i++) {
        PyObject *doc = PyList_GET_ITEM(value, i);
        PyObject *event = NULL;
        if (PyDict_CheckExact(doc) && PyDict_GET_SIZE(doc) <= max_attributes) {
            PyObject *data = PyDict_GetItemWithError(doc, s_data);
            event = build_event(Py_None, doc, data != NULL ? data : Py_None, 1, 0, 1, NULL);
        }
        if (event == NULL || event == FALLBACK) {
            Py_XDECREF(event);
            Py_CLEAR(events);
            break;
        }
        PyList_SET_ITEM(events, i, event);
    }
    Py_DECREF(value);
    if (events == NULL) {
        PyErr_Clear();
        RETURN_FALLBACK;
    }
    return events;
}

/* -- HTTP messages in -------------------------------------------------------------------------------------- */


static PyObject *read_headers_dict(PyObject *headers, Py_ssize_t max_length);

/* _http.read for a (headers, body) pair of a dict of str and bytes: a Received, or FALLBACK. */
static PyObject *
read_message(PyObject *self, PyObject *args)
{
    PyObject *message;
    Py_ssize_t max_bytes, max_count, max_length;
    if (!PyArg_ParseTuple(args, "OO&O&O&:read_message", &message, bounded, &max_bytes, bounded, &max_count, bounded,
                          &max_length)) {
        return NULL;
    }
    if (!received_ready || !PyTuple_Check(message) || PyTuple_GET_SIZE(message) != 2) {
        RETURN_FALLBACK;
    }
    PyObject *headers = PyTuple_GET_ITEM(message, 0), *body = PyTuple_GET_ITEM(message, 1);
    if (!PyDict_CheckExact(headers) || !PyBytes_CheckExact(body) || PyBytes_GET_SIZE(body) > max_bytes ||
        PyDict_GET_SIZE(headers) > max_count) {
        RETURN_FALLBACK;
    }
    PyObject *pair = read_headers_dict(headers, max_length);
    if (pair == NULL || pair == FALLBACK) {
        PyErr_Clear();
        Py_XDECREF(pair);
        RETURN_FALLBACK;
    }
    PyObject *received = ((PyTypeObject *)cfg_received_type)->tp_alloc((PyTypeObject *)cfg_received_type, 0);
    if (received == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    set_slot(received, received_off[0], PyTuple_GET_ITEM(pair, 0));
    set_slot(received, received_off[1], PyTuple_GET_ITEM(pair, 1));
    set_slot(received, received_off[2], body);
    Py_DECREF(pair);
    return received;
}

/* _http.decode_binary's event_from_parts and body_to_data for what they do on the common path: an
 * event, or FALLBACK (nothing changed). */
static PyObject *
binary_event(PyObject *self, PyObject *args)
{
    PyObject *attributes, *body, *content_type;
    Py_ssize_t max_bytes, max_depth, max_containers;
    if (!PyArg_ParseTuple(args, "OOOO&O&O&:binary_event", &attributes, &body, &content_type, bounded, &max_bytes,
                          bounded, &max_depth, bounded, &max_containers)) {
        return NULL;
    }
    if (!cfg_body_kinds || !PyDict_CheckExact(attributes) || !PyBytes_CheckExact(body) ||
        PyBytes_GET_SIZE(body) > max_bytes || (content_type != Py_None && !PyUnicode_CheckExact(content_type))) {
        RETURN_FALLBACK;
    }
    PyObject *data;
    if (PyBytes_GET_SIZE(body) == 0) {
        data = Py_NewRef(Py_None);
    } else if (content_type == Py_None) {
        data = Py_NewRef(body);
    } else {
        PyObject *kind = through_memo(cfg_body_kinds, content_type);
        if (kind == NULL || !PyTuple_CheckExact(kind) || PyTuple_GET_SIZE(kind) != 2) {
            Py_XDECREF(kind);
            PyErr_Clear();
            RETURN_FALLBACK;
        }
        long which = PyLong_AsLong(PyTuple_GET_ITEM(kind, 0)); /* _JSON, _TEXT, _BYTES, _EVENT_FORMAT */
        int utf8 = PyUnicode_CheckExact(PyTuple_GET_ITEM(kind, 1)) && PyUnicode_Compare(PyTuple_GET_ITEM(kind, 1), s_utf8) == 0;
        Py_DECREF(kind);
        if (which == 0) {
            Parser p = {
                (const unsigned char *)PyBytes_AS_STRING(body),
                (const unsigned char *)PyBytes_AS_STRING(body) + PyBytes_GET_SIZE(body), 0,
                C_DEPTH(max_depth), 0, max_containers,
            };
            data = parse_value(&p);
            if (data != NULL) {
                skip_space(&p);
                if (p.s != p.end) Py_CLEAR(data);
            }
        } else if (which == 1 && utf8) {
            data = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(body), PyBytes_GET_SIZE(body), NULL);
        } else if (which == 2) {
            data = Py_NewRef(body);
        } else {
            data = NULL;
        }
        if (data == NULL) {
            PyErr_Clear();
            RETURN_FALLBACK;
        }
    }
    PyObject *event = build_event(Py_None, attributes, data, 1, 0, 0, content_type);
    Py_DECREF(data);
    return event;
}

/* -- writing events ---------------------------------------------------------------------------------------- */


typedef struct {
    char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buffer;

static int
put(Buffer *b, const char *text, Py_ssize_t n)
{
    if (b->len + n > b->cap) {
        Py_ssize_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n + 256;
        char *grown = PyMem_Realloc(b->data, cap);
        if (grown == NULL) {
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, n);
    b->len += n;
    return 0;
}

#define PUT_LITERAL(b, text) put(b, text, (Py_ssize_t)sizeof(text) - 1)

/* A str as JSON text in UTF-8, escaped as the json module escapes with ensure_ascii=False; -1 for a
 * string with no UTF-8 form (a lone surrogate), which the Python path reports. */
static int put_escaped(Buffer *b, const char *utf8, Py_ssize_t size);

static int
put_json_string(Buffer *b, PyObject *text)
{
    if (PyUnicode_IS_ASCII(text)) {
        return put_escaped(b, (const char *)PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text));
    }
    /* A temporary UTF-8 copy (PyUnicode_AsUTF8AndSize would keep one inside the string for good). */
    PyObject *encoded = PyUnicode_AsUTF8String(text);
    if (encoded == NULL) {
        return -1; /* a lone surrogate: no UTF-8 form */
    }
    int result = put_escaped(b, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
    Py_DECREF(encoded);
    return result;
}

static int
put_escaped(Buffer *b, const char *utf8, Py_ssize_t size)
{
    if (put(b, "\"", 1) < 0) {
        return -1;
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)utf8[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        if (put(b, utf8 + start, i - start) < 0) {
            return -1;
        }
        char escape[7] = {'\\', 0, 0, 0, 0, 0, 0};
        int n = 2;
        switch (c) {
        case '"': escape[1] = '"'; break;
        case '\\': escape[1] = '\\'; break;
        case '\n': escape[1] = 'n'; break;
        case '\r': escape[1] = 'r'; break;
        case '\t': escape[1] = 't'; break;
        case '\b': escape[1] = 'b'; break;
        case '\f': escape[1] = 'f'; break;
        default:
            snprintf(escape + 1, 6, "u%04x", c);
            n = 6;
        }
        if (put(b, escape, n) < 0) {
            return -1;
        }
        start = i + 1;
    }
    if (put(b, utf8 + start, size - start) < 0) {
        return -1;
    }
    return put(b, "\"", 1);
}

static int put_encoded(Buffer *b, PyObject *value);

static int
put_name(Buffer *b, const char *name, int *first)
{
    if (!*first && put(b, ",", 1) < 0) {
        return -1;
    }
    *first = 0;
    if (put(b, "\"", 1) < 0 || put(b, name, (Py_ssize_t)strlen(name)) < 0) {
        return -1;
    }
    return PUT_LITERAL(b, "\":");
}

/* A JSON value as the json module writes it (ensure_ascii=False, separators "," and ":", no NaN),
 * in UTF-8: dict with str keys, list, str, int, float, True, False, None, each of its exact type.
 * Anything else (subclasses, other keys, NaN, nesting deeper than MAX_C_DEPTH) is -1: the Python path. */
static int
put_value(Buffer *b, PyObject *value, int depth)
{
    if (PyUnicode_CheckExact(value)) {
        return put_json_string(b, value);
    }
    if (value == Py_None) return PUT_LITERAL(b, "null");
    if (value == Py_True) return PUT_LITERAL(b, "true");
    if (value == Py_False) return PUT_LITERAL(b, "false");
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (!overflow) {
            char digits[24];
            return put(b, digits, snprintf(digits, sizeof(digits), "%lld", number));
        }
        PyObject *text = PyLong_Type.tp_repr(value);
        if (text == NULL) return -1;
        int result = put(b, (const char *)PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text));
        Py_DECREF(text);
        return result;
    }
    if (PyFloat_CheckExact(value)) {
        double number = PyFloat_AS_DOUBLE(value);
        if (!isfinite(number)) return -1;
        char *text = PyOS_double_to_string(number, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (text == NULL) return -1;
        int result = put(b, text, (Py_ssize_t)strlen(text));
        PyMem_Free(text);
        return result;
    }
    if (depth >= MAX_C_DEPTH) return -1;
    if (PyList_CheckExact(value)) {
        if (put(b, "[", 1) < 0) return -1;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            if ((i > 0 && put(b, ",", 1) < 0) || put_value(b, PyList_GET_ITEM(value, i), depth + 1) < 0) return -1;
        }
        return put(b, "]", 1);
    }
    if (PyDict_CheckExact(value)) {
        PyObject *key, *item;
        Py_ssize_t pos = 0;
        int first = 1;
        if (put(b, "{", 1) < 0) return -1;
        while (PyDict_Next(value, &pos, &key, &item)) {
            if (!PyUnicode_CheckExact(key)) return -1;
            if ((!first && put(b, ",", 1) < 0) || put_json_string(b, key) < 0 || put(b, ":", 1) < 0 ||
                put_value(b, item, depth + 1) < 0) {
                return -1;
            }
            first = 0;
        }
        return put(b, "}", 1);
    }
    return -1;
}

static int
put_json_value(Buffer *b, PyObject *value)
{
    Py_ssize_t mark = b->len;
    if (put_value(b, value, 0) == 0) {
        return 0;
    }
    /* Not taken (a subclass, say): the json module's own C encoder, as _data._encode calls it. */
    PyErr_Clear();
    b->len = mark;
    return put_encoded(b, value);
}

/* A JSON value through the json module's C encoder (what _data._encode does), as UTF-8. */
static int
put_encoded(Buffer *b, PyObject *value)
{
    PyObject *chunks = PyObject_CallFunction(cfg_encoder, "Oi", value, 0);
    if (chunks == NULL) {
        return -1;
    }
    PyObject *empty = PyUnicode_New(0, 0);
    PyObject *text = empty == NULL ? NULL : PyUnicode_Join(empty, chunks);
    Py_XDECREF(empty);
    Py_DECREF(chunks);
    if (text == NULL) {
        return -1;
    }
    int result;
    if (PyUnicode_IS_ASCII(text)) {
        result = put(b, (const char *)PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text));
    } else {
        PyObject *encoded = PyUnicode_AsUTF8String(text);
        result = encoded == NULL ? -1 : put(b, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
        Py_XDECREF(encoded);
    }
    Py_DECREF(text);
    return result;
}

static int
put_timestamp_text(Buffer *b, PyObject *stamp)
{
    PyObject *text = format_timestamp(NULL, stamp);
    if (text == NULL || text == FALLBACK) {
        Py_XDECREF(text);
        return -1;
    }
    int result = put(b, "\"", 1) < 0 || put(b, (const char *)PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text)) < 0 ||
                 put(b, "\"", 1) < 0 ? -1 : 0;
    Py_DECREF(text);
    return result;
}

/* Bytes as a JSON string of their Base64 (RFC 4648 section 4, padded), as canonical_string writes them. */
static int
put_base64(Buffer *b, PyObject *bytes)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(bytes);
    Py_ssize_t n = PyBytes_GET_SIZE(bytes), i = 0;
    if (put(b, "\"", 1) < 0) {
        return -1;
    }
    char group[4];
    for (; i + 3 <= n; i += 3) {
        group[0] = alphabet[s[i] >> 2];
        group[1] = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        group[2] = alphabet[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        group[3] = alphabet[s[i + 2] & 63];
        if (put(b, group, 4) < 0) return -1;
    }
    if (n - i == 1) {
        group[0] = alphabet[s[i] >> 2];
        group[1] = alphabet[(s[i] & 3) << 4];
        group[2] = group[3] = '=';
        if (put(b, group, 4) < 0) return -1;
    } else if (n - i == 2) {
        group[0] = alphabet[s[i] >> 2];
        group[1] = alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        group[2] = alphabet[(s[i + 1] & 15) << 2];
        group[3] = '=';
        if (put(b, group, 4) < 0) return -1;
    }
    return put(b, "\"", 1);
}

static int
is_json_container(PyObject *data)
{
    return PyDict_CheckExact(data) || PyList_CheckExact(data) || PyLong_CheckExact(data) || PyFloat_CheckExact(data) ||
           PyBool_Check(data);
}

/* One event as the JSON format's document (_json_format.encode_event without the bytes object). */
static int
put_document(Buffer *b, PyObject *event)
{
    if (!ev_ready || !cfg_encoder || (PyObject *)Py_TYPE(event) != cfg_event_type) {
        return -1;
    }
    PyObject *specversion = get_slot(event, ev_off[3]);
    int v10;
    if (specversion == s_v10 || (specversion != NULL && PyUnicode_CheckExact(specversion) && PyUnicode_Compare(specversion, s_v10) == 0)) {
        v10 = 1;
    } else if (specversion != NULL && PyUnicode_CheckExact(specversion) && PyUnicode_Compare(specversion, s_v03) == 0) {
        v10 = 0;
    } else {
        return -1;
    }
    PyObject *data = get_slot(event, ev_off[9]);
    PyObject *extensions = get_slot(event, ev_off[8]);
    if (data == NULL || extensions == NULL || (PyObject *)Py_TYPE(extensions) != cfg_ext_type) {
        return -1;
    }
    PyObject *items = get_slot(extensions, ext_items_off);
    if (items == NULL || !PyDict_CheckExact(items)) {
        return -1;
    }
    if (!(data == Py_None || PyBytes_CheckExact(data) || PyUnicode_CheckExact(data) || is_json_container(data))) {
        return -1; /* typed data: the Python path */
    }
    int first = 1;
    static const char *names[] = {"specversion", "id", "source", "type", "datacontenttype", NULL, "subject"};
    if (put(b, "{", 1) < 0) {
        return -1;
    }
    for (int i = 0; i < 7; i++) {
        int slot = i == 0 ? 3 : i == 1 ? 0 : i == 2 ? 1 : i == 3 ? 2 : i;
        PyObject *value = get_slot(event, ev_off[slot]);
        if (value == NULL) {
            return -1;
        }
        if (value == Py_None) {
            continue;
        }
        if (!PyUnicode_CheckExact(value)) {
            return -1;
        }
        const char *name = names[i] != NULL ? names[i] : (v10 ? "dataschema" : "schemaurl");
        if (put_name(b, name, &first) < 0 || put_json_string(b, value) < 0) {
            return -1;
        }
    }
    PyObject *time = get_slot(event, ev_off[7]);
    if (time == NULL) {
        return -1;
    }
    if (time != Py_None && (put_name(b, "time", &first) < 0 || put_timestamp_text(b, time) < 0)) {
        return -1;
    }
    PyObject *name, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(items, &pos, &name, &value)) {
        if (!PyUnicode_CheckExact(name) || !PyUnicode_IS_ASCII(name)) {
            return -1;
        }
        if ((!first && put(b, ",", 1) < 0) || put(b, "\"", 1) < 0 ||
            put(b, (const char *)PyUnicode_1BYTE_DATA(name), PyUnicode_GET_LENGTH(name)) < 0 || PUT_LITERAL(b, "\":") < 0) {
            return -1;
        }
        first = 0;
        if (PyUnicode_CheckExact(value)) {
            if (put_json_string(b, value) < 0) return -1;
        } else if (value == Py_True) {
            if (PUT_LITERAL(b, "true") < 0) return -1;
        } else if (value == Py_False) {
            if (PUT_LITERAL(b, "false") < 0) return -1;
        } else if (PyLong_CheckExact(value)) {
            char digits[32];
            int overflow;
            long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
            if (overflow || (number == -1 && PyErr_Occurred())) return -1;
            int n = snprintf(digits, sizeof(digits), "%lld", number);
            if (put(b, digits, n) < 0) return -1;
        } else if (stamp_ready && (PyObject *)Py_TYPE(value) == cfg_stamp_type) {
            if (put_timestamp_text(b, value) < 0) return -1;
        } else {
            return -1; /* Binary: Base64 on the Python path */
        }
    }
    if (PyBytes_CheckExact(data)) {
        /* Binary data: Base64 in data_base64 (1.0), or in data marked by datacontentencoding (0.3). */
        if (v10) {
            return put_name(b, "data_base64", &first) < 0 || put_base64(b, data) < 0 ? -1 : put(b, "}", 1);
        }
        if (put_name(b, "datacontentencoding", &first) < 0 || PUT_LITERAL(b, "\"base64\"") < 0 ||
            put_name(b, "data", &first) < 0 || put_base64(b, data) < 0) {
            return -1;
        }
        return put(b, "}", 1);
    }
    if (data != Py_None) {
        if (put_name(b, "data", &first) < 0) {
            return -1;
        }
        if (PyUnicode_CheckExact(data) ? put_json_string(b, data) < 0 : put_json_value(b, data) < 0) {
            return -1;
        }
    }
    return put(b, "}", 1);
}

static PyObject *
buffer_bytes(Buffer *b, int ok)
{
    PyObject *out = ok == 0 ? PyBytes_FromStringAndSize(b->data, b->len) : NULL;
    PyMem_Free(b->data);
    if (out == NULL) {
        PyErr_Clear();
        RETURN_FALLBACK;
    }
    return out;
}

static PyObject *
encode_document(PyObject *self, PyObject *event)
{
    Buffer b = {NULL, 0, 0};
    return buffer_bytes(&b, put_document(&b, event));
}

/* _data.dump_json: a JSON value as compact UTF-8 bytes, or FALLBACK. */
static PyObject *
dumps(PyObject *self, PyObject *value)
{
    Buffer b = {NULL, 0, 0};
    int ok = put_value(&b, value, 0);
    return buffer_bytes(&b, ok);
}

static PyObject *
encode_documents(PyObject *self, PyObject *events)
{
    if (!PyList_CheckExact(events)) {
        RETURN_FALLBACK;
    }
    Buffer b = {NULL, 0, 0};
    int ok = put(&b, "[", 1);
    for (Py_ssize_t i = 0; ok == 0 && i < PyList_GET_SIZE(events); i++) {
        if ((i > 0 && put(&b, ",", 1) < 0) || put_document(&b, PyList_GET_ITEM(events, i)) < 0) {
            ok = -1;
        }
    }
    if (ok == 0) {
        ok = put(&b, "]", 1);
    }
    return buffer_bytes(&b, ok);
}

/* A header value that needs no percent-encoding: printable ASCII without space, '"' or '%'. */
static int
plain_header(PyObject *value)
{
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) {
        return 0;
    }
    const unsigned char *s = PyUnicode_1BYTE_DATA(value);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(value); i < n; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '%') {
            return 0;
        }
    }
    return 1;
}

static PyObject *s_ce_specversion, *s_ce_id, *s_ce_source, *s_ce_type, *s_ce_subject, *s_ce_time;
static PyObject *s_ce_dataschema, *s_ce_schemaurl;

static int
set_header(PyObject *headers, PyObject *name, PyObject *value)
{
    return plain_header(value) ? PyDict_SetItem(headers, name, value) : -1;
}

/* The HTTP binary mode's message of an event (_http.encode_binary): (headers, body), or FALLBACK. */
static PyObject *
binary_message(PyObject *self, PyObject *event)
{
    PyObject *headers = NULL, *body = NULL, *kind = NULL;
    if (!ev_ready || !cfg_encoder || !cfg_body_kinds || (PyObject *)Py_TYPE(event) != cfg_event_type) {
        RETURN_FALLBACK;
    }
    PyObject *specversion = get_slot(event, ev_off[3]), *event_id = get_slot(event, ev_off[0]);
    PyObject *source = get_slot(event, ev_off[1]), *event_type = get_slot(event, ev_off[2]);
    PyObject *content_type = get_slot(event, ev_off[4]), *schema = get_slot(event, ev_off[5]);
    PyObject *subject = get_slot(event, ev_off[6]), *time = get_slot(event, ev_off[7]);
    PyObject *extensions = get_slot(event, ev_off[8]), *data = get_slot(event, ev_off[9]);
    if (!specversion || !event_id || !source || !event_type || !content_type || !schema || !subject || !time ||
        !extensions || !data || (PyObject *)Py_TYPE(extensions) != cfg_ext_type) {
        goto fallback;
    }
    PyObject *items = get_slot(extensions, ext_items_off);
    if (items == NULL || !PyDict_CheckExact(items) || (headers = PyDict_New()) == NULL) {
        goto fallback;
    }
    if (!PyUnicode_CheckExact(specversion) || PyDict_SetItem(headers, s_ce_specversion, specversion) < 0 ||
        set_header(headers, s_ce_id, event_id) < 0 || set_header(headers, s_ce_source, source) < 0 ||
        set_header(headers, s_ce_type, event_type) < 0) {
        goto fallback;
    }
    int is_json = 1, is_text = 0;
    if (content_type != Py_None) {
        if (!PyUnicode_CheckExact(content_type) || PyDict_SetItem(headers, s_content_type, content_type) < 0) {
            goto fallback;
        }
        kind = through_memo(cfg_body_kinds, content_type);
        if (kind == NULL || !PyTuple_CheckExact(kind) || PyTuple_GET_SIZE(kind) != 2) {
            goto fallback;
        }
        long which = PyLong_AsLong(PyTuple_GET_ITEM(kind, 0)); /* _JSON, _TEXT, _BYTES, _EVENT_FORMAT */
        PyObject *charset = PyTuple_GET_ITEM(kind, 1);
        if (which == 3 || (which == 1 && (!PyUnicode_CheckExact(charset) || PyUnicode_Compare(charset, s_utf8) != 0))) {
            goto fallback; /* refused, or text in another charset: the Python path */
        }
        is_json = which == 0;
        is_text = which == 1;
    }
    if (schema != Py_None) {
        PyObject *name = specversion == s_v10 || PyUnicode_Compare(specversion, s_v10) == 0 ? s_ce_dataschema : s_ce_schemaurl;
        if (PyErr_Occurred() || set_header(headers, name, schema) < 0) goto fallback;
    }
    if (subject != Py_None && set_header(headers, s_ce_subject, subject) < 0) {
        goto fallback;
    }
    if (time != Py_None) {
        PyObject *text = format_timestamp(NULL, time);
        if (text == NULL || text == FALLBACK) {
            Py_XDECREF(text);
            goto fallback;
        }
        int failed = PyDict_SetItem(headers, s_ce_time, text);
        Py_DECREF(text);
        if (failed < 0) goto fallback;
    }
    PyObject *name, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(items, &pos, &name, &value)) {
        PyObject *text;
        if (PyUnicode_CheckExact(value)) {
            text = Py_NewRef(value);
        } else if (PyBool_Check(value)) {
            text = PyUnicode_FromString(value == Py_True ? "true" : "false");
        } else if (PyLong_CheckExact(value)) {
            text = PyObject_Str(value);
        } else if (stamp_ready && (PyObject *)Py_TYPE(value) == cfg_stamp_type) {
            text = format_timestamp(NULL, value);
            if (text == FALLBACK) {
                Py_DECREF(text);
                goto fallback;
            }
        } else {
            goto fallback;
        }
        if (text == NULL || !PyUnicode_CheckExact(name) || !PyUnicode_IS_ASCII(name)) {
            Py_XDECREF(text);
            goto fallback;
        }
        char header[80];
        Py_ssize_t len = PyUnicode_GET_LENGTH(name);
        PyObject *key = NULL;
        if (len + 3 <= (Py_ssize_t)sizeof(header)) {
            memcpy(header, "ce-", 3);
            memcpy(header + 3, PyUnicode_1BYTE_DATA(name), len);
            key = ascii_string((const unsigned char *)header, len + 3);
        }
        int failed = key == NULL ? -1 : set_header(headers, key, text);
        Py_XDECREF(key);
        Py_DECREF(text);
        if (failed < 0) goto fallback;
    }
    if (data == Py_None) {
        body = PyBytes_FromStringAndSize(NULL, 0);
    } else if (PyBytes_CheckExact(data)) {
        body = Py_NewRef(data);
    } else if (PyUnicode_CheckExact(data) && is_text) {
        body = PyUnicode_AsUTF8String(data);
    } else if (is_json && (PyUnicode_CheckExact(data) || is_json_container(data))) {
        Buffer b = {NULL, 0, 0};
        int failed = PyUnicode_CheckExact(data) ? put_json_string(&b, data) : put_json_value(&b, data);
        body = failed < 0 ? NULL : PyBytes_FromStringAndSize(b.data, b.len);
        PyMem_Free(b.data);
    } else {
        goto fallback; /* typed data, str data of a non-text type */
    }
    if (body == NULL) {
        goto fallback;
    }
    PyObject *pair = PyTuple_Pack(2, headers, body);
    Py_DECREF(headers);
    Py_DECREF(body);
    Py_XDECREF(kind);
    return pair;
fallback:
    PyErr_Clear();
    Py_XDECREF(headers);
    Py_XDECREF(body);
    Py_XDECREF(kind);
    RETURN_FALLBACK;
}

/* -- the module ------------------------------------------------------------------------------------------ */

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Hand over what the fast paths need (once, at import)."},
    {"loads", loads, METH_VARARGS, "JSON text to a value, or FALLBACK."},
    {"build", build, METH_VARARGS, "Fill (or make) a CloudEvent record, or FALLBACK."},
    {"check_data", check_data, METH_VARARGS, "A checked copy of a JSON value, or FALLBACK."},
    {"decode_documents", decode_documents, METH_VARARGS, "A JSON-format event (or batch), or FALLBACK."},
    {"parse_timestamp", parse_timestamp, METH_O, "RFC 3339 text to a Timestamp, or FALLBACK."},
    {"format_timestamp", format_timestamp, METH_O, "A UTC Timestamp's canonical text, or FALLBACK."},
    {"read_headers", read_headers, METH_VARARGS, "A dict of headers' CloudEvents part, or FALLBACK."},
    {"read_pairs", read_pairs, METH_VARARGS, "(name, bytes) header pairs' CloudEvents part, or FALLBACK."},
    {"encode_document", encode_document, METH_O, "An event as JSON-format bytes, or FALLBACK."},
    {"dumps", dumps, METH_O, "A JSON value as compact UTF-8 bytes, or FALLBACK."},
    {"encode_documents", encode_documents, METH_O, "A list of events as a JSON batch, or FALLBACK."},
    {"binary_message", binary_message, METH_O, "An event's HTTP binary (headers, body), or FALLBACK."},
    {"read_message", read_message, METH_VARARGS, "A (headers, body) pair read into a Received, or FALLBACK."},
    {"binary_event", binary_event, METH_VARARGS, "A binary-mode message's event, or FALLBACK."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "cefmt._speedups",
    "The optional compiled fast paths of cefmt; each falls back to the pure-Python reference.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    FALLBACK = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    types_seen = PyDict_New();
    zone_suffixes = PyDict_New();
    special_names = PyDict_New();
    if (FALLBACK == NULL || types_seen == NULL || zone_suffixes == NULL || special_names == NULL) {
        goto error;
    }
    for (int i = 0; i < 10; i++) {
        small_ints[i] = PyLong_FromLong(i);
    }
#define NAME(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) goto error
    NAME(s_specversion, "specversion");
    NAME(s_id, "id");
    NAME(s_source, "source");
    NAME(s_type, "type");
    NAME(s_time, "time");
    NAME(s_datacontenttype, "datacontenttype");
    NAME(s_subject, "subject");
    NAME(s_v10, "1.0");
    NAME(s_v03, "0.3");
    NAME(s_app_json, "application/json");
    NAME(s_data, "data");
    NAME(s_content_type, "content-type");
    NAME(s_utf8, "utf-8");
    NAME(s_ce_specversion, "ce-specversion");
    NAME(s_ce_id, "ce-id");
    NAME(s_ce_source, "ce-source");
    NAME(s_ce_type, "ce-type");
    NAME(s_ce_subject, "ce-subject");
    NAME(s_ce_time, "ce-time");
    NAME(s_ce_dataschema, "ce-dataschema");
    NAME(s_ce_schemaurl, "ce-schemaurl");
#undef NAME
    const char *core[] = {"specversion", "id", "source", "type", "time", "datacontenttype"};
    for (size_t i = 0; i < sizeof(core) / sizeof(*core); i++) {
        PyObject *code = PyLong_FromLong(N_CORE);
        if (code == NULL || PyDict_SetItemString(special_names, core[i], code) < 0) goto error;
        Py_DECREF(code);
    }
    PyObject *code = PyLong_FromLong(N_SCHEMAURL);
    if (code == NULL || PyDict_SetItemString(special_names, "schemaurl", code) < 0) goto error;
    Py_DECREF(code);
    code = PyLong_FromLong(N_ENCODING);
    if (code == NULL || PyDict_SetItemString(special_names, "datacontentencoding", code) < 0) goto error;
    Py_DECREF(code);
    code = PyLong_FromLong(N_SUBJECT);
    if (code == NULL || PyDict_SetItemString(special_names, "subject", code) < 0) goto error;
    Py_DECREF(code);
    code = PyLong_FromLong(N_DATA);
    if (code == NULL || PyDict_SetItemString(special_names, "data", code) < 0) goto error;
    Py_DECREF(code);
    code = PyLong_FromLong(N_SCHEMA);
    if (code == NULL || PyDict_SetItemString(special_names, "dataschema", code) < 0) goto error;
    Py_DECREF(code);
    code = PyLong_FromLong(N_BASE64);
    if (code == NULL || PyDict_SetItemString(special_names, "data_base64", code) < 0) goto error;
    Py_DECREF(code);
    if (PyModule_AddObjectRef(m, "FALLBACK", FALLBACK) < 0) goto error;
    return m;
error:
    Py_DECREF(m);
    return NULL;
}
