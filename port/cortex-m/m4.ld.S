/* SPDX-License-Identifier: Apache-2.0 */
/* m4.ld.S — linker script of the Cortex-M4 port (mps2-an386), preprocessed with
 * ROM_ORIGIN / ROM_LENGTH (where the image executes: the bootloader region or a slot's image)
 * and RAM_ORIGIN / RAM_LENGTH / HEAP_SIZE / STACK_SIZE (the heap serves newlib's malloc, which
 * Mbed TLS's PSA core calls in the application; the bootloader has none). See fs38_m4.h for the memory map. */
MEMORY
{
    ROM (rx)  : ORIGIN = ROM_ORIGIN, LENGTH = ROM_LENGTH
    RAM (rwx) : ORIGIN = RAM_ORIGIN, LENGTH = RAM_LENGTH
}
ENTRY(m4_reset)
SECTIONS
{
    .text : {
        KEEP(*(.vectors))
        *(.text .text.*)
        *(.rodata .rodata.*)
        . = ALIGN(4);
    } > ROM
    .ARM.exidx : { *(.ARM.exidx*) } > ROM
    __data_load = LOADADDR(.data);
    .data : {
        . = ALIGN(4);
        __data_start = .;
        *(.data .data.*)
        . = ALIGN(4);
        __data_end = .;
    } > RAM AT > ROM
    .bss (NOLOAD) : {
        . = ALIGN(4);
        __bss_start = .;
        *(.bss .bss.* COMMON)
        . = ALIGN(4);
        __bss_end = .;
        end = .;
    } > RAM
    .heap (NOLOAD) : {
        . = ALIGN(8);
        __heap_start = .;
        . += HEAP_SIZE;
        __heap_end = .;
    } > RAM
    .stack (NOLOAD) : {
        . = ALIGN(8);
        __stack_bottom = .;
        . += STACK_SIZE;
        __stack_top = .;
    } > RAM
}
