/* SPDX-License-Identifier: Apache-2.0 */
#include "audit.h"
void aud_check_boot(aud_ctx *ctx) { (void)ctx; }
void aud_check_update(aud_ctx *ctx) { (void)ctx; }
void aud_check_comms(aud_ctx *ctx) { (void)ctx; }
void aud_check_services(aud_ctx *ctx) { (void)ctx; }
void aud_check_keys(aud_ctx *ctx) { (void)ctx; }
void aud_check_elf(aud_ctx *ctx) { (void)ctx; }
void aud_check_disclosure(aud_ctx *ctx) { (void)ctx; }
