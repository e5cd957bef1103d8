module github.com/tjsia/chapterhouse/gateway

go 1.26
