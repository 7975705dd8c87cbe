package io.github.diffusion4j.data;

/**
 * What an image file holds before it is fitted to the target shape.
 *
 * @param width the width in pixels
 * @param height the height in pixels
 * @param colour the colour type: {@code gray}, {@code gray+alpha}, {@code RGB}, {@code RGBA},
 *     {@code palette}, {@code CMYK} or another colour space's name
 */
public record ImageInfo(int width, int height, String colour) {}
