/* start: the smallest program there is, linked statically (no ld.so, no libc start-up
 * files opened). Prints "ok" so the driver can tell it ran. */
#include <unistd.h>
int main(void) { return write(1, "ok\n", 3) == 3 ? 0 : 1; }
