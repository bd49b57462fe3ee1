package koji

import (
	"context"
	"testing"

	"github.com/gokoji/gokoji/internal/kojitest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseWebURL(t *testing.T) {
	const web = "https://koji.fedoraproject.org/koji"
	for link, want := range map[string]WebObject{
		web + "/buildinfo?buildID=2416047":                     {WebBuild, 2416047},
		web + "/channelinfo?channelID=2":                       {WebChannel, 2},
		web + "/hostinfo?hostID=331":                           {WebHost, 331},
		web + "/packageinfo?packageID=8":                       {WebPackage, 8},
		web + "/taskinfo?taskID=118412436":                     {WebTask, 118412436},
		web + "/taginfo?tagID=7":                               {WebTag, 7},
		web + "/targetinfo?targetID=1":                         {WebTarget, 1},
		web + "/userinfo?userID=3":                             {WebUser, 3},
		web + "/buildinfo?buildID=5&buildID=6":                 {WebBuild, 5},
		web + "/taskinfo?x=1&taskID=9#log":                     {WebTask, 9},
		"http://KOJI.fedoraproject.org/koji/taskinfo?taskID=9": {WebTask, 9},
	} {
		got, err := ParseWebURL(web, link)
		require.NoError(t, err, link)
		assert.Equal(t, want, got, link)
		assert.Equal(t, want, mustParse(t, "", link), "any weburl: %s", link)
	}
	assert.Equal(t, WebObject{WebBuild, 4}, mustParse(t, web+"/", web+"/buildinfo?buildID=4"), "a trailing slash on weburl")
}

func mustParse(t *testing.T, web, link string) WebObject {
	t.Helper()
	o, err := ParseWebURL(web, link)
	require.NoError(t, err, link)
	return o
}

func TestParseWebURLRefuses(t *testing.T) {
	const web = "https://koji.fedoraproject.org/koji"
	for link, want := range map[string]error{
		web + "/buildinfo?buildID=1 ":                           ErrWebURLSpace,
		web + "/buildinfo?buildID=\t1":                          ErrWebURLSpace,
		web + "/buildinfo?buildID=1\u00a0":                      ErrWebURLSpace,
		"https://other.example.org/koji/buildinfo?buildID=1":    ErrWebURLOutside,
		web + "/sub/buildinfo?buildID=1":                        ErrWebURLOutside,
		"ftp://koji.fedoraproject.org/koji/buildinfo?buildID=1": ErrWebURLOutside,
		"/koji/buildinfo?buildID=1":                             ErrWebURLOutside,
		web + "/buildinfo?buildID=abc":                          ErrWebURLID,
		web + "/buildinfo?buildID=":                             ErrWebURLID,
		web + "/buildinfo?buildID=-4":                           ErrWebURLID,
		web + "/buildinfo?buildID=+4":                           ErrWebURLID,
		web + "/buildinfo?buildID=99999999999999999999":         ErrWebURLID,
		web + "/buildinfo?taskID=3":                             ErrWebURLID,
		web + "/buildinfo":                                      ErrWebURLID,
		web + "/builds?buildID=1":                               ErrWebURLPage,
		web + "/buildinfo/?buildID=1":                           ErrWebURLOutside,
		web + "/":                                               ErrWebURLPage,
		web + "/rpminfo?rpmID=3":                                ErrWebURLPage,
	} {
		_, err := ParseWebURL(web, link)
		assert.ErrorIs(t, err, want, link)
		var we *WebURLError
		if assert.ErrorAs(t, err, &we, link) {
			assert.Equal(t, link, we.URL)
		}
	}
	_, err := ParseWebURL("", "https://x.example.org/koji/nopage?id=1")
	assert.ErrorIs(t, err, ErrWebURLPage)
	_, err = ParseWebURL("", "https://x.example.org/%zz")
	var we *WebURLError
	assert.ErrorAs(t, err, &we, "an unparsable link")
	_, err = ParseWebURL("http://[bad", web+"/buildinfo?buildID=1")
	assert.ErrorAs(t, err, &we, "an unparsable weburl")
	assert.EqualError(t, &WebURLError{URL: "x y", Err: ErrWebURLSpace}, `koji: "x y" contains white space`)
}

func TestWebObjectURLRoundTrips(t *testing.T) {
	const web = "https://koji.example.org/koji"
	for kind := range webPages {
		o := WebObject{Kind: kind, ID: 12}
		assert.Equal(t, o, mustParse(t, web, o.URL(web)), kind)
	}
	assert.Equal(t, "https://koji.example.org/koji/taskinfo?taskID=12", WebObject{WebTask, 12}.URL(web+"/"))
}

func TestResolveWebURL(t *testing.T) {
	const web = "https://koji.example.org/koji"
	hub := kojitest.NewReplayHub(t, "getBuild_by_id", "getTaskInfo", "getTag_by_id")
	p := DefaultProfile()
	p.Server, p.WebURL = hub.URL(), web
	c, err := NewClientFromProfile(p)
	require.NoError(t, err)
	require.NoError(t, c.Login(context.Background(), recordedSession{id: 11}))
	ctx := context.Background()

	v, err := c.ResolveWebURL(ctx, web+"/buildinfo?buildID=3")
	require.NoError(t, err)
	require.IsType(t, &Build{}, v)
	assert.Equal(t, "wirepkg-1.0-1", v.(*Build).NVR)
	assertSentAsRecorded(t, hub, 0, "getBuild_by_id")

	v, err = c.ResolveWebURL(ctx, web+"/taskinfo?taskID=1")
	require.NoError(t, err)
	require.IsType(t, &Task{}, v)
	assert.Equal(t, "sleep", v.(*Task).Method)
	assertSentAsRecorded(t, hub, 1, "getTaskInfo")

	v, err = c.ResolveWebURL(ctx, web+"/taginfo?tagID=2")
	require.NoError(t, err)
	assert.Equal(t, "anchor-build", v.(*Tag).Name)
	assertSentAsRecorded(t, hub, 2, "getTag_by_id")

	_, err = c.ResolveWebURL(ctx, "https://koji.fedoraproject.org/koji/buildinfo?buildID=3")
	assert.ErrorIs(t, err, ErrWebURLOutside, "an ID of another hub's object")
	assert.Len(t, hub.Received(), 3)
}

func TestResolveWebURLKinds(t *testing.T) {
	const web = "http://localhost/koji"
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		if call.Args[0] == int64(404) {
			return nil, nil
		}
		return map[string]any{"id": call.Args[0], "name": call.Method}, nil
	})
	c.Profile().WebURL = web
	ctx := context.Background()
	for link, want := range map[string]any{
		web + "/channelinfo?channelID=5": &Channel{ID: 5, Name: "getChannel"},
		web + "/hostinfo?hostID=6":       &Host{ID: 6, Name: "getHost"},
		web + "/packageinfo?packageID=7": &Package{ID: 7, Name: "getPackage"},
		web + "/targetinfo?targetID=8":   &Target{ID: 8, Name: "getBuildTarget"},
		web + "/userinfo?userID=9":       &User{ID: 9, Name: "getUser"},
	} {
		got, err := c.ResolveWebURL(ctx, link)
		require.NoError(t, err, link)
		assert.Equal(t, want, got, link)
	}
	for _, call := range hub.received() {
		assert.Len(t, call.Args, 1, call.Method)
		assert.Nil(t, call.Kwargs, "not strict: a missing object is told apart from a failure")
	}

	v, err := c.ResolveWebURL(ctx, web+"/userinfo?userID=404")
	assert.ErrorIs(t, err, ErrWebURLMissing)
	assert.Nil(t, v, "an untyped nil, not a nil *User")
	_, err = c.ResolveWebURL(ctx, web+"/userinfo?userID=x")
	assert.ErrorIs(t, err, ErrWebURLID)
}
