// SPDX-License-Identifier: LGPL-2.1-or-later
// The installed header from C++: C linkage, no C-only constructs.
#include <cstdio>

#include <izc.h>

int main()
{
	izc_scan_type st;

	if (izc_scan_type_parse("be:u24/32>>8", &st) != 0 || st.storagebits != 32 || !st.is_be)
		return 1;
	std::printf("libizc %u.%u from C++\n", izc_version() >> 16, izc_version() & 0xffff);
	return izc_version() == IZC_VERSION ? 0 : 1;
}
