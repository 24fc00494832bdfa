/* The uprobe test's target: calls gx_uprobe_target(i) for i in [0, n), n = argv[1]. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int gx_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory"); /* keep the call */
	return x * 2;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	long sum = 0;
	for (int i = 0; i < n; i++)
		sum += gx_uprobe_target(i);
	printf("%ld\n", sum);
	return 0;
}
