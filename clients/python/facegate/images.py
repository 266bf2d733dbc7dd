"""Images travel as raw base64 in the JSON body (no ``data:`` prefix)."""
import base64
import os


def to_base64(image):
    """Raw base64 of an image: a path (str or os.PathLike), bytes/bytearray/memoryview, or a binary file object."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif isinstance(image, (str, os.PathLike)):
        with open(image, "rb") as f:
            data = f.read()
    elif hasattr(image, "read"):
        data = image.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("the file object must be opened in binary mode")
    else:
        raise TypeError("an image is a path, bytes or a binary file object, not %s" % type(image).__name__)
    return base64.b64encode(bytes(data)).decode("ascii")
