#include <stdio.h>
int main(void)
{
	puts("refitd " REFIT_VERSION);
	return 0;
}
