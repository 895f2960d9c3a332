#ifndef YOROI_CGROUPWARM_H
#define YOROI_CGROUPWARM_H

// yoroi_warm_started is set when the constructor started the warm-up in this process;
// yoroi_warm_result, once the move is done, is 1 if it succeeded and -errno otherwise.
extern volatile int yoroi_warm_started;
extern volatile int yoroi_warm_result;

// yoroi_warm_command is the index in argv of the command yoroi's command line names past
// its global flags, or -1.
int yoroi_warm_command(int argc, char **argv);

#endif
