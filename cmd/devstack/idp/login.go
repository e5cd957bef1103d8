package idp

import (
	"context"
	"html/template"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/tjsia/chapterhouse/platform/i18n"
)

// login is the development login page: it lists the users and signs in
// the one picked, with no password. GET shows the page for an
// authorization request (op redirects there with authRequestID); POST
// completes that request for the picked subject and sends the browser on
// to op's callback, which issues the code to the app's redirect URI.
//
// Forgery: the form carries the authorization request id, 130 random
// bits that only the browser running this sign-in has seen, and a request
// completes only once; a cross-origin POST from a browser is refused
// (http.CrossOriginProtection, by Sec-Fetch-Site and Origin).
type login struct {
	store    *storage
	issuer   string
	callback func(ctx context.Context, authRequestID string) string
}

func newLogin(store *storage, issuer string, callback func(context.Context, string) string) http.Handler {
	l := &login{store: store, issuer: issuer, callback: callback}
	return http.NewCrossOriginProtection().Handler(l)
}

type loginPage struct {
	Lang, Title, Notice, Client, Pick, Error string
	RequestID                                string
	Users                                    []User
	Switch                                   []langLink
}

type langLink struct{ Name, Href string }

func (l *login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	lang := pageLanguage(r)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		l.show(w, r, lang, r.URL.Query().Get("authRequestID"))
	case http.MethodPost:
		id, subject := r.PostFormValue("authRequestID"), r.PostFormValue("subject")
		if err := l.store.complete(id, subject); err != nil {
			key := "signin.unknown_request"
			if _, ok := l.store.users[subject]; !ok {
				key = "signin.unknown_user"
			}
			l.render(w, http.StatusBadRequest, l.page(lang, key))
			return
		}
		ctx := op.ContextWithIssuer(r.Context(), l.issuer)
		http.Redirect(w, r, l.callback(ctx, id), http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

func (l *login) show(w http.ResponseWriter, r *http.Request, lang, id string) {
	l.store.mu.Lock()
	a, err := l.store.request(id)
	var clientID string
	if err == nil && !a.done {
		clientID = a.req.ClientID
	}
	l.store.mu.Unlock()
	if clientID == "" {
		l.render(w, http.StatusBadRequest, l.page(lang, "signin.unknown_request"))
		return
	}
	p := l.page(lang, "")
	p.Client = text(lang, "signin.client", map[string]string{"client": clientID})
	p.RequestID = id
	p.Users = l.store.cfg.Users
	for _, o := range []struct{ lang, name string }{{i18n.Chinese, "中文"}, {i18n.English, "English"}} {
		if o.lang != lang {
			q := url.Values{"authRequestID": {id}, "lang": {o.lang}}
			p.Switch = append(p.Switch, langLink{Name: o.name, Href: LoginPath + "?" + q.Encode()})
		}
	}
	l.render(w, http.StatusOK, p)
}

func (l *login) page(lang, errKey string) loginPage {
	p := loginPage{Lang: lang, Title: text(lang, "signin.title", nil), Notice: text(lang, "signin.dev_only", nil),
		Pick: text(lang, "signin.pick", nil)}
	if errKey != "" {
		p.Error = text(lang, errKey, nil)
	}
	return p
}

func (l *login) render(w http.ResponseWriter, status int, p loginPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, p)
}

// pageLanguage is the page's language: ?lang= when it names one, else the
// browser's Accept-Language, else Chinese (the users' first language).
func pageLanguage(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); i18n.Known(l) {
		return l
	}
	return i18n.Default().Choose(r.Header.Get("Accept-Language"), i18n.Chinese)
}

func text(lang, key string, args map[string]string) string {
	return i18n.Default().Render(lang, i18n.Message{Key: key, Args: args})
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
.notice{background:#fff3cd;border:1px solid #e0c36c;padding:.75rem;border-radius:.4rem}
.error{background:#f8d7da;border:1px solid #d9a0a6;padding:.75rem;border-radius:.4rem}
button{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem .8rem;font-size:1rem;cursor:pointer}
small{color:#555}
</style></head>
<body>
<h1>{{.Title}}</h1>
<p class="notice">{{.Notice}}</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
{{if .RequestID}}
<p>{{.Client}}</p>
<form method="post" action="login">
<input type="hidden" name="authRequestID" value="{{.RequestID}}">
<h2>{{.Pick}}</h2>
{{range .Users}}<button type="submit" name="subject" value="{{.Subject}}">{{.Name}}{{if .Email}} <small>{{.Email}}</small>{{end}}</button>
{{end}}</form>
{{end}}
<p>{{range .Switch}}<a href="{{.Href}}">{{.Name}}</a> {{end}}</p>
</body></html>
`))

// signedOut is where end_session lands when the app names no
// post_logout_redirect_uri of its own.
func signedOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := pageLanguage(r)
		p := loginPage{Lang: lang, Title: text(lang, "signin.title", nil), Notice: text(lang, "signin.signed_out", nil)}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		(&login{}).render(w, http.StatusOK, p)
	})
}
