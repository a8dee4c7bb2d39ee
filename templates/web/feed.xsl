<?xml version="1.0" encoding="utf-8"?>
<!-- Shown by a browser that opens an Atom feed of digest: the papers, and how to subscribe.
     Feed readers ignore it. Everything here is text from the feed, escaped by XSLT itself. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>
  <xsl:template match="/atom:feed">
    <html lang="{@xml:lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/> (feed)</title>
        <!-- The site's own stylesheet: the pages' Content-Security-Policy allows no inline style. -->
        <link rel="stylesheet" href="{atom:link[@rel='alternate' and @type='text/html']/@href}static/site.css"/>
      </head>
      <body>
        <h1><xsl:value-of select="atom:title"/></h1>
        <p><xsl:value-of select="atom:subtitle"/></p>
        <p class="note">This is a web feed. To follow it, copy this address into your feed reader
          (Feeder, NetNewsWire, Thunderbird, newsboat, Miniflux, ...):
          <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code>
          <xsl:if test="atom:link[@type='application/feed+json']">
            or, for readers that prefer JSON Feed,
            <code><xsl:value-of select="atom:link[@type='application/feed+json']/@href"/></code>
          </xsl:if>.
          <a href="{atom:link[@rel='alternate' and @type='text/html']/@href}">Back to the site</a>.
        </p>
        <p><xsl:value-of select="count(atom:entry)"/> papers in this feed.</p>
        <xsl:for-each select="atom:entry">
          <article>
            <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
            <p class="meta">
              <xsl:for-each select="atom:author[position() &lt;= 6]">
                <xsl:value-of select="atom:name"/>
                <xsl:if test="position() != last()">, </xsl:if>
              </xsl:for-each>
              <xsl:if test="count(atom:author) &gt; 6"> and others</xsl:if>
              <xsl:text> · first seen </xsl:text>
              <xsl:value-of select="substring(atom:published, 1, 10)"/>
            </p>
          </article>
        </xsl:for-each>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
