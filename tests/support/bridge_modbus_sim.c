/*  Test support: a scripted Modbus TCP device (bridge_modbus_sim.h).  */
#include "bridge_modbus_sim.h"

#include <modbus.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct bms_server {
    modbus_t *ctx;
    modbus_mapping_t *map;
    int listen_fd, client_fd;
    pthread_t thread;
    pthread_mutex_t lock;
    volatile bool stop;
    uint64_t requests;
};

static void *
s_serve (void *arg)
{
    bms_server_t *self = arg;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    while (!self->stop) {
        struct pollfd p[2] = { { self->listen_fd, POLLIN, 0 }, { self->client_fd, POLLIN, 0 } };
        int n = poll (p, self->client_fd >= 0 ? 2 : 1, 20);
        if (n <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            /* One client at a time, as many small devices serve: a new
             * connection replaces the old one. */
            if (self->client_fd >= 0)
                close (self->client_fd);
            self->client_fd = -1;
            self->client_fd = modbus_tcp_accept (self->ctx, &self->listen_fd);
            continue;
        }
        if (self->client_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            modbus_set_socket (self->ctx, self->client_fd);
            int len = modbus_receive (self->ctx, query);
            if (len > 0) {
                pthread_mutex_lock (&self->lock);
                modbus_reply (self->ctx, query, len, self->map);
                self->requests++;
                pthread_mutex_unlock (&self->lock);
            } else if (len < 0) {
                close (self->client_fd);
                self->client_fd = -1;
            }
        }
    }
    return NULL;
}

bms_server_t *
bms_start (int port, int n)
{
    bms_server_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->client_fd = self->listen_fd = -1;
    pthread_mutex_init (&self->lock, NULL);
    self->ctx = modbus_new_tcp ("127.0.0.1", port);
    self->map = modbus_mapping_new (n, n, n, n);
    if (!self->ctx || !self->map)
        goto fail;
    self->listen_fd = modbus_tcp_listen (self->ctx, 4);
    if (self->listen_fd < 0)
        goto fail;
    if (pthread_create (&self->thread, NULL, s_serve, self) != 0)
        goto fail;
    return self;
fail:
    if (self->listen_fd >= 0)
        close (self->listen_fd);
    if (self->map)
        modbus_mapping_free (self->map);
    if (self->ctx)
        modbus_free (self->ctx);
    pthread_mutex_destroy (&self->lock);
    free (self);
    return NULL;
}

void
bms_stop (bms_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bms_server_t *self = *self_p;
    self->stop = true;
    pthread_join (self->thread, NULL);
    if (self->client_fd >= 0)
        close (self->client_fd);
    close (self->listen_fd);
    modbus_mapping_free (self->map);
    modbus_free (self->ctx);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

#define S_SET(field, addr, v) do { pthread_mutex_lock (&self->lock); \
        if ((addr) >= 0 && (addr) < self->map->nb_##field) self->map->tab_##field[addr] = (v); \
        pthread_mutex_unlock (&self->lock); } while (0)

void bms_set_holding (bms_server_t *self, int a, uint16_t v) { S_SET (registers, a, v); }
void bms_set_input (bms_server_t *self, int a, uint16_t v) { S_SET (input_registers, a, v); }
void bms_set_coil (bms_server_t *self, int a, int v) { S_SET (bits, a, (uint8_t) (v != 0)); }
void bms_set_discrete (bms_server_t *self, int a, int v) { S_SET (input_bits, a, (uint8_t) (v != 0)); }

uint16_t
bms_get_holding (bms_server_t *self, int a)
{
    pthread_mutex_lock (&self->lock);
    uint16_t v = a >= 0 && a < self->map->nb_registers ? self->map->tab_registers[a] : 0;
    pthread_mutex_unlock (&self->lock);
    return v;
}

int
bms_get_coil (bms_server_t *self, int a)
{
    pthread_mutex_lock (&self->lock);
    int v = a >= 0 && a < self->map->nb_bits ? self->map->tab_bits[a] : 0;
    pthread_mutex_unlock (&self->lock);
    return v;
}

uint64_t
bms_requests (bms_server_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t n = self->requests;
    pthread_mutex_unlock (&self->lock);
    return n;
}
