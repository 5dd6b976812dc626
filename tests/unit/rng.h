/*
 * rng.h - the unit tests' random numbers: splitmix64, seeded by assigning
 * rng_state, so a failing run is reproduced from its seed alone.
 */
#ifndef BOURSE_TEST_RNG_H
#define BOURSE_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
