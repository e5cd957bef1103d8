module github.com/tjsia/chapterhouse/devstack

go 1.26
