#ifndef YOROI_LAUNCHER_H
#define YOROI_LAUNCHER_H

// yoroi_launcher_arg is the first argument that makes a process of this binary the
// Landlock launcher (hardening.LandlockArg).
const char *yoroi_launcher_arg(void);

#endif
