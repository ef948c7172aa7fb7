// http/http.hpp — gev::http, an HTTP/1.1 server: the public API and nothing else.
#pragma once

#include "http/debug.hpp"
#include "http/errors.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "http/server.hpp"
