/* `weft compare`: several runs' traces side by side on one HTML page (compare.c). */
#ifndef WF_COMPARE_H
#define WF_COMPARE_H

int wf_compare_main(int argc, char **argv);

#endif
