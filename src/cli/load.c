/*
 * load.c - `bourse load`: the load generator, src/load/ (load.h).
 */
#include "load/load.h"
#include "cli.h"

int cmd_load(int argc, char **argv)
{
    return load_main(argc, argv);
}
