// proc/subprocess.hpp — gev::subprocess, gevent.subprocess in C++: Popen, its pipes,
// run/call/check_call/check_output and their exceptions. Included by gev.hpp.
#pragma once

#include "proc/errors.hpp"
#include "proc/pipe.hpp"
#include "proc/popen.hpp"
#include "proc/run.hpp"
