/* placeholder suite: replaced by the real tests */
#include <criterion/criterion.h>
