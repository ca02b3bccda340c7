/*  test_cli — the operator tool against a real broker (filled in next).  */
#include <criterion/criterion.h>
