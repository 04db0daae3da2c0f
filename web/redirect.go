package web

import (
	"net/url"
	"path"
	"strings"
	"unicode"
)

// localPath keeps a post-sign-in destination on this site. It returns the
// path cleaned the way http.Redirect cleans it ("/x/../stats" is
// "/stats"), with its query, or "" for anything a browser could take for
// another host or for script. A path survives when it starts with "/" and
// then neither "/" nor "\" as written and once cleaned, and when its
// percent-decoded form, backslashes read as slashes (as browsers read
// them), is just as local and already clean: "/%5Cevil.com" and
// "/%2e%2e/%5Cevil.com" are refused, as no page of this site is named
// like that. A control character anywhere refuses it too, since browsers
// drop tabs and newlines from URLs ("/\t/evil.com" is "//evil.com" to
// them).
func localPath(p string) string {
	if strings.ContainsFunc(p, unicode.IsControl) {
		return ""
	}
	raw, query, hasQuery := strings.Cut(p, "?")
	clean := cleanPath(raw)
	if !localStart(raw) || !localStart(clean) {
		return ""
	}
	decoded, err := url.PathUnescape(clean)
	if err != nil || strings.ContainsFunc(decoded, unicode.IsControl) {
		return ""
	}
	decoded = strings.ReplaceAll(decoded, `\`, "/")
	if !localStart(decoded) || cleanPath(decoded) != decoded {
		return ""
	}
	if hasQuery {
		clean += "?" + query
	}
	return clean
}

// cleanPath is path.Clean keeping a trailing slash, as http.Redirect does.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// localStart reports whether a path names a page of this site: "/" alone,
// or "/" and then anything but another slash or a backslash.
func localStart(p string) bool {
	return p == "/" || len(p) > 1 && p[0] == '/' && p[1] != '/' && p[1] != '\\'
}
