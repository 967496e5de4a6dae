import pytest

from tests.zxing_c_build import zxing_c_library


@pytest.fixture(scope="session")
def zxing_c_lib():
    return zxing_c_library()
