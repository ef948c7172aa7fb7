// http/response.cpp — the Response a handler writes through; the bytes and the framing
// are the connection's (conn_write.cpp). Every call checks that the handler is still
// running, so a Response kept past its handler fails loudly instead of corrupting the
// next answer.
#include "http/response.hpp"

#include "http/conn.hpp"

namespace gev::http {

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "";
    }
}

void Response::check_open(const char* op) const {
    if (finished_) throw Error(EPIPE, std::string(op) + ": the response is finished (its handler returned)");
}

void Response::set_status(int status, std::string_view reason) {
    check_open("set_status");
    if (headers_sent_) throw Error(EINVAL, "set_status: the headers were already sent");
    if (status < 100 || status > 999) throw Error(EINVAL, "set_status: " + std::to_string(status) + " is no status");
    status_ = status;
    if (reason.empty()) reason_ = {};
    else conn_->set_reason(*this, reason);
}

void Response::add_header(std::string_view name, std::string_view value) {
    check_open("add_header");
    if (headers_sent_) throw Error(EINVAL, "add_header: the headers were already sent");
    conn_->add_header(*this, name, value);
}

void Response::send(std::string_view body) {
    check_open("send");
    if (headers_sent_) throw Error(EINVAL, "send: the headers were already sent");
    conn_->send_body(*this, body, true);
}

void Response::write(std::string_view data) {
    check_open("write");
    conn_->send_body(*this, data, false);
}

}  // namespace gev::http
