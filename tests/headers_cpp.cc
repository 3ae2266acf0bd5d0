// Every public header, the generated one included, compiles as C++ (the
// extern "C" guards and the inline bodies are C++-clean).
#include <kwire/kwire.h>
#include <kwire/messages.h>

int kw_headers_compile_as_cpp(void);
int kw_headers_compile_as_cpp(void)
{
    kw_reader r;
    kw_reader_init(&r, nullptr, 0);
    return kw_reader_ok(&r) ? 0 : 1;
}
