package io.github.diffusion4j.data;

import io.github.diffusion4j.tensor.Shape;
import java.util.List;

/**
 * Images to be decoded, one by one, into {@code [C, H, W]} bytes (an image folder, CIFAR-10 batches). A
 * source is cheap to create (it lists, it does not decode) and says what its decoded images depend on
 * ({@link #fingerprint()}), so that a cache of them can tell when it is stale.
 */
public interface ImageSource {

  /**
   * A short name for messages and file names, e.g. the folder's name.
   *
   * @return the name
   */
  String name();

  /**
   * What the images are and how they are fitted, e.g. {@code folder /data/cats -> 3x64x64 crop}; two sources
   * with the same identity decode to the same images when their files are unchanged.
   *
   * @return the identity
   */
  String identity();

  /**
   * The shape every image is fitted to.
   *
   * @return {@code [C, H, W]}
   */
  Shape imageShape();

  /**
   * The number of items (files, records), usable or not.
   *
   * @return the count
   */
  int size();

  /**
   * One item, for messages: a path relative to the source, or a batch file and record number.
   *
   * @param index the item
   * @return its description
   */
  String item(int index);

  /**
   * The class of an item.
   *
   * @param index the item
   * @return an index into {@link #classes()}, or -1 when the item has none
   */
  int label(int index);

  /**
   * The class names, in label order.
   *
   * @return the names; empty when the source has no classes
   */
  List<String> classes();

  /**
   * Decodes an item and fits it to {@link #imageShape()}, channel-major.
   *
   * @param index the item
   * @param dst the destination
   * @param offset where the first of {@code imageShape().size()} bytes goes
   * @return what the item held before fitting
   * @throws DataFileException if the item cannot be used, naming the file
   */
  ImageInfo read(int index, byte[] dst, int offset);

  /**
   * A digest of everything the decoded images depend on: the identity, the items' names, sizes and
   * modification times.
   *
   * @return 32 bytes (SHA-256)
   */
  byte[] fingerprint();
}
