/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_stubs.c — boot artefacts beyond the kernel configuration's module signing (SUIT
 * envelopes, U-Boot FIT signature nodes, MCUboot TLVs, GRUB check_signatures) have no check in
 * this version: control 2 stays UNKNOWN unless a kernel configuration was found
 * (check_services.c), never PASS for lack of evidence.
 */
#include "audit.h"
void aud_check_boot(aud_ctx *ctx) { (void)ctx; }
