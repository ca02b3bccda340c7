/*  broker/cache.c — the last-value cache: the newest message of every topic,
 *  kept as a reference-counted ZeroMQ message so that caching costs no copy
 *  of the body on the relay's hot path.  */
#include "broker_internal.h"

typedef struct {
    char *topic;             /* NUL-terminated copy */
    size_t topic_len;
    uint64_t hash;
    zmq_msg_t body;
} s_entry_t;

struct cache {
    s_entry_t *slots;        /* open addressing, power-of-two capacity */
    size_t cap, count, max_topics;
    size_t bytes, max_bytes; /* bodies and topics held, and their cap */
};

/* What an entry counts against max_bytes. */
static size_t
s_entry_bytes (s_entry_t *e)
{
    return e->topic_len + zmq_msg_size (&e->body);
}

static uint64_t
s_hash (const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h | 1;            /* 0 marks an empty slot */
}

cache_t *
cache_new (size_t max_topics, size_t max_bytes)
{
    cache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->max_topics = max_topics;
    self->max_bytes = max_bytes;
    self->cap = 1024;
    self->slots = calloc (self->cap, sizeof *self->slots);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    return self;
}

void
cache_destroy (cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cache_t *self = *self_p;
    for (size_t i = 0; i < self->cap; i++)
        if (self->slots[i].hash) {
            free (self->slots[i].topic);
            zmq_msg_close (&self->slots[i].body);
        }
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static s_entry_t *
s_find (cache_t *self, const void *topic, size_t len, uint64_t hash)
{
    size_t i = (size_t) hash & (self->cap - 1);
    while (self->slots[i].hash) {
        s_entry_t *e = &self->slots[i];
        if (e->hash == hash && e->topic_len == len && memcmp (e->topic, topic, len) == 0)
            return e;
        i = (i + 1) & (self->cap - 1);
    }
    return &self->slots[i];
}

static int
s_grow (cache_t *self)
{
    size_t old_cap = self->cap;
    s_entry_t *old = self->slots;
    s_entry_t *slots = calloc (old_cap * 2, sizeof *slots);
    if (!slots)
        return -1;
    self->slots = slots;
    self->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].hash)
            /* Moving the struct moves the zmq_msg_t too: it is plain data. */
            *s_find (self, old[i].topic, old[i].topic_len, old[i].hash) = old[i];
    free (old);
    return 0;
}

int
cache_put (cache_t *self, const void *topic, size_t topic_len, zmq_msg_t *body)
{
    uint64_t hash = s_hash (topic, topic_len);
    s_entry_t *e = s_find (self, topic, topic_len, hash);
    size_t new_bytes = topic_len + zmq_msg_size (body);
    if (e->hash) {
        size_t old_bytes = s_entry_bytes (e);
        if (self->bytes - old_bytes + new_bytes > self->max_bytes) {
            /* Never serve the older value as current: the topic goes. */
            cache_remove_len (self, topic, topic_len);
            return CACHE_FULL_BYTES;
        }
        if (zmq_msg_copy (&e->body, body) != 0)
            return CACHE_FULL_TOPICS;
        self->bytes += new_bytes - old_bytes;
        return 0;
    }
    if (self->count >= self->max_topics)
        return CACHE_FULL_TOPICS;
    if (self->bytes + new_bytes > self->max_bytes)
        return CACHE_FULL_BYTES;
    if ((self->count + 1) * 2 > self->cap) {
        if (s_grow (self) != 0)
            return -1;
        e = s_find (self, topic, topic_len, hash);
    }
    e->topic = strndup (topic, topic_len);
    if (!e->topic)
        return -1;
    e->topic_len = topic_len;
    e->hash = hash;
    zmq_msg_init (&e->body);
    zmq_msg_copy (&e->body, body);
    self->count++;
    self->bytes += new_bytes;
    return 0;
}

void
cache_remove (cache_t *self, const char *topic)
{
    cache_remove_len (self, topic, strlen (topic));
}

void
cache_remove_len (cache_t *self, const void *topic, size_t len)
{
    s_entry_t *e = s_find (self, topic, len, s_hash (topic, len));
    if (!e->hash)
        return;
    self->bytes -= s_entry_bytes (e);
    free (e->topic);
    zmq_msg_close (&e->body);
    memset (e, 0, sizeof *e);
    self->count--;
    /* Re-insert the rest of the probe run so lookups still find them. */
    size_t i = (size_t) (e - self->slots);
    for (i = (i + 1) & (self->cap - 1); self->slots[i].hash; i = (i + 1) & (self->cap - 1)) {
        s_entry_t moved = self->slots[i];
        memset (&self->slots[i], 0, sizeof moved);
        *s_find (self, moved.topic, moved.topic_len, moved.hash) = moved;
    }
}

size_t cache_size (const cache_t *self) { return self->count; }
size_t cache_bytes (const cache_t *self) { return self->bytes; }

int
cache_visit (cache_t *self, const char *prefix, cache_visit_fn *fn, void *arg)
{
    size_t plen = strlen (prefix);
    int visited = 0;
    for (size_t i = 0; i < self->cap; i++) {
        s_entry_t *e = &self->slots[i];
        if (!e->hash)
            continue;
        if (plen && !(e->topic_len >= plen && memcmp (e->topic, prefix, plen) == 0
                      && (e->topic_len == plen || e->topic[plen] == '.' || prefix[plen - 1] == '.')))
            continue;
        if (fn (e->topic, &e->body, arg) != 0)
            break;
        visited++;
    }
    return visited;
}
