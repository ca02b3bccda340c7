/*  Test support: a scripted Modbus TCP device — libmodbus's own server on
 *  127.0.0.1 in a thread of the test process.  The test sets and reads its
 *  registers while the bridge polls them; stopping it closes every
 *  connection, as a device that died would.  */
#ifndef BRIDGE_MODBUS_SIM_H
#define BRIDGE_MODBUS_SIM_H

#include <stdint.h>

typedef struct bms_server bms_server_t;

/* Serves N registers, coils, discrete inputs and input registers (each from
 * address 0) on 127.0.0.1:PORT; NULL if it cannot listen. */
bms_server_t *bms_start (int port, int n);
void bms_stop (bms_server_t **self_p);
void bms_set_holding (bms_server_t *self, int address, uint16_t value);
uint16_t bms_get_holding (bms_server_t *self, int address);
void bms_set_input (bms_server_t *self, int address, uint16_t value);
void bms_set_coil (bms_server_t *self, int address, int value);
int bms_get_coil (bms_server_t *self, int address);
void bms_set_discrete (bms_server_t *self, int address, int value);
/* Requests answered so far. */
uint64_t bms_requests (bms_server_t *self);

#endif
